"""The `slimscope` command and `python -m slimscope`.

Ctrl-C and SIGTERM are answered with one line from the first instruction on, also
while the CLI is still being imported: a CI runner cancelling a job, or a user
changing their mind, never sees a traceback.
"""

from __future__ import annotations

import signal
import sys

from slimscope.errors import Terminated


def _terminate(signum, frame):
    raise Terminated()


def _stopped(e: KeyboardInterrupt) -> None:
    sys.stderr.write("slimscope: terminated\n" if isinstance(e, Terminated)
                     else "slimscope: interrupted\n")
    sys.exit(143 if isinstance(e, Terminated) else 130)


def run() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from slimscope.cli import main

        main(prog_name="slimscope")
    except KeyboardInterrupt as e:   # before the CLI's own handler is in place, or after it
        _stopped(e)


if __name__ == "__main__":
    run()
