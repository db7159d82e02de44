"""Run per-layer work in worker processes, with the outcome the sequential loop would have.

Parsing tar headers in Python is what an analysis spends its time on, and one
process uses one core. Sources that can hand each layer blob to a worker on its
own (a file, a byte range of a file) use `run_ordered` to index layers on every
core; everything else stays sequential.

Workers are spawned, not forked: the caller may run threads (the TUI loads in
one, the progress bar draws from one), and forking a threaded process can
deadlock the child. As with any spawning multiprocessing, a script that calls
slimscope's API must keep its top level under `if __name__ == "__main__":`
(or set SLIMSCOPE_JOBS=1); the `slimscope` command needs nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Optional, TextIO, TypeVar

from slimscope.errors import BadInput

# Workers must take at least this many layer bytes off the longest path (the
# sequential run's bytes less those of the busiest worker) to be worth starting:
# each costs ~0.15 s CPU (an interpreter and slimscope's imports) and its index is
# pickled back. Measured on the dive-bench archives: a 282 MiB Debian image in layers
# of 111 and 164 MiB, and 256 MiB in layers of 128/89/38 MiB, both took more
# wall time with two workers (0.2 s more CPU) than in one process; the 700 MB,
# 10-layer image of bench (a) takes half the wall time with them.
# Tests lower it to run the parallel path on small synthetic images.
PARALLEL_MIN_BYTES = 192 << 20

R = TypeVar("R")


def jobs_for(n_tasks: int, total_bytes: int, largest: int = 0) -> int:
    """How many worker processes to use for `n_tasks` layers of `total_bytes` to read,
    the biggest of them `largest` bytes; 1 means stay sequential.

    SLIMSCOPE_JOBS sets the number (1 turns workers off); the default is the cores
    this process may run on, never more than there are tasks, and none when the
    workers would save less than PARALLEL_MIN_BYTES of reading (one big layer is read
    by one worker however many there are).
    """
    env = os.environ.get("SLIMSCOPE_JOBS", "").strip()
    if env:
        try:
            jobs = int(env)
        except ValueError:
            raise BadInput(f"SLIMSCOPE_JOBS wants a number of processes, got {env!r}") from None
    else:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    jobs = min(jobs, n_tasks)
    if jobs < 2:
        return 1
    if total_bytes - max(largest, total_bytes // jobs) < PARALLEL_MIN_BYTES:
        return 1
    return jobs


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group: the parent turns it into one line and
    # ends the workers, which must not print tracebacks of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _StderrWithFd:
    """sys.stderr as it is, but with the process's real descriptor 2."""

    def __init__(self, inner: TextIO):
        self.inner = inner

    def fileno(self) -> int:
        return 2

    def __getattr__(self, name: str) -> Any:  # whatever sys.stderr's attribute is
        return getattr(self.inner, name)


@contextlib.contextmanager
def _spawnable_stderr() -> Iterator[None]:
    # Spawning hands sys.stderr's descriptor to the child, and refuses -1: the TUI's
    # print capture (a Textual app) has no descriptor. Only while the workers start,
    # and only if no one has set sys.stderr since, lend it one; output still goes
    # where it went.
    saved = sys.stderr
    try:
        usable = saved is None or saved.fileno() >= 0
    except Exception:  # no fileno at all: spawning skips it
        usable = True
    if usable:
        yield
        return
    sys.stderr = lent = _StderrWithFd(saved)
    try:
        yield
    finally:
        if sys.stderr is lent:
            sys.stderr = saved


def run_ordered(fn: Callable[..., R], tasks: Sequence[tuple[object, ...]], jobs: int,
                on_done: Optional[Callable[[int, R], None]] = None,
                sizes: Optional[Sequence[int]] = None) -> list[R]:
    """fn(*task) for every task in `jobs` processes; the results in task order.

    Tasks start biggest first by `sizes`, so that no worker is left alone with a
    big layer at the end while the others idle.

    fn must be a module-level function, its tasks and results picklable. If tasks
    raise BadInput, the one raised is that of the first failing task in order, as
    in a sequential loop: later tasks are dropped, earlier ones still finish.
    Workers never outlive the call, whatever happens.
    """
    # imported here: most analyses stay in one process and need not pay for them
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    results: dict[int, R] = {}
    failed: Optional[tuple[int, BadInput]] = None  # (task number, its error)
    clean = False
    order = sorted(range(len(tasks)), key=lambda i: -sizes[i]) if sizes else list(range(len(tasks)))
    with _spawnable_stderr():  # the pool starts its processes in the constructor and submit
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_init)
    try:
        with _spawnable_stderr():
            futures = {pool.submit(fn, *tasks[i]): i for i in order}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = futures[fut]
                if failed is not None and i > failed[0]:
                    continue
                try:
                    results[i] = fut.result()
                except BadInput as e:
                    failed = (i, e)
                    continue
                if on_done is not None:
                    on_done(i, results[i])
            if failed is not None:
                pending = {f for f in pending if futures[f] < failed[0]}
        clean = failed is None
    finally:
        if not clean:
            # On error or Ctrl-C, do not wait for layers nobody will look at. (The pool
            # has no public way to end its workers before Python 3.14.)
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
    if failed is not None:
        raise BadInput(str(failed[1])) from None
    return [results[i] for i in range(len(tasks))]
