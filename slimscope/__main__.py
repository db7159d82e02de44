"""The `slimscope` command and `python -m slimscope`.

Ctrl-C and SIGTERM are answered with one line from the first instruction on, also
while the CLI is still being imported: a CI runner cancelling a job, or a user
changing their mind, never sees a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from slimscope.errors import Terminated


def _terminate(signum, frame):
    raise Terminated()


def _stopped(e: KeyboardInterrupt) -> None:
    sys.stderr.write("slimscope: terminated\n" if isinstance(e, Terminated)
                     else "slimscope: interrupted\n")
    sys.exit(143 if isinstance(e, Terminated) else 130)


def _leave(e: SystemExit) -> None:
    """Exit with e's status without freeing what the run built, one object at a time.

    An analysis holds an object per path (200k of them for a big tree); tearing the
    interpreter down frees each of them, a few percent of a cold run's CPU that no
    one waits for. What exit does that matters is done here first: the output is
    flushed and the atexit functions run. Anything unusual (another thread still
    running, a status that is not a number, output that cannot be flushed) takes the
    usual way out.
    """
    code = 0 if e.code is None else e.code
    if not isinstance(code, int) or threading.active_count() > 1:
        raise e
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise e from None
    import atexit
    atexit._run_exitfuncs()
    os._exit(code & 0xFF)


def run() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from slimscope.cli import main

        main(prog_name="slimscope")
    except KeyboardInterrupt as e:   # before the CLI's own handler is in place, or after it
        _stopped(e)
    except SystemExit as e:
        _leave(e)


if __name__ == "__main__":
    run()
