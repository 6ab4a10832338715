"""The ``flux`` process itself: what a cold command spends before and after its work.

When the process is the command's own (the console script, ``python -m flux_sdk._cli``),
``flux_sdk._cli.main`` saves two costs that have nothing to do with the command:

* **The collector while the command's modules load.** Importing httpx, pydantic and anyio
  makes tens of thousands of objects that live as long as the process, and the garbage
  collector passes over them again and again as they are made (about 0.04 s of a cold
  ``flux generate``). `pause_collector` turns it off first thing; `resume_collector`, once
  the command's module is loaded, freezes what exists (``gc.freeze``: never collected, never
  passed over again) and turns it back on for the command itself, however long it runs.
* **The interpreter's teardown.** At exit CPython first waits for the threads that are not
  daemons, runs the ``atexit`` handlers (a local Space's clean-up, logging's flush,
  ``weakref.finalize`` callbacks) and flushes stdout and stderr; then it tears every module
  down, with several garbage collections over everything imported (about 0.1 s). That last
  part changes nothing the command leaves behind: its files are closed, its jobs and local
  Space stopped, its output written. `exit_now` does the first three steps, in the
  interpreter's order, then ends the process with ``os._exit``.

Neither happens in a process something watches (``-X dev``, a debugger, a profiler,
coverage): that process starts and ends as any Python process does.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading

__all__ = ["exit_now", "pause_collector", "resume_collector"]

_paused = False


def _observed() -> bool:
    """Whether something watches this process and reports at its teardown."""
    if sys.flags.dev_mode:  # -X dev: ResourceWarnings at teardown are the point
        return True
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return True  # a debugger, coverage, cProfile: they write their results at the end
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+: PEP 669 tools
    return monitoring is not None and any(monitoring.get_tool(i) is not None for i in range(6))


def pause_collector() -> None:
    """No garbage collection until `resume_collector` (the command's own process only)."""
    global _paused
    if gc.isenabled() and not _observed():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """Freeze what was made since `pause_collector`, and collect as usual again."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def _flushed() -> bool:
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            return False
    return True


def exit_now(status: int) -> None:
    """End the process with ``status`` now, as the interpreter would but for its teardown.

    Returns (and the caller exits as usual) when the process is being watched (``-X dev``, a
    debugger, a profiler, coverage), when this is not the main thread, or when stdout or
    stderr cannot be flushed: the interpreter then reports that as it always does.

    Args:
        status: The exit status.
    """
    resume_collector()  # a command that never loaded its module (--help): as it was
    if _observed() or threading.current_thread() is not threading.main_thread():
        return
    # What Py_FinalizeEx calls first: both are in every CPython; without them, exit as usual.
    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or run_exitfuncs is None:
        return
    shutdown()  # waits for the threads that are not daemons, as at any exit
    run_exitfuncs()
    if _flushed():
        os._exit(status)
