"""The ``flux`` process's own start and end (flux_sdk._cli._process), each in a fresh interpreter.

`exit_now` must do what the interpreter does at exit before its teardown: wait for the
threads that are not daemons, run the atexit handlers, flush stdout and stderr; and it must
leave alone a process that something watches, or whose output cannot be written.
"""

from __future__ import annotations

import subprocess
import sys

from ._run import LIMIT, environment

_EXIT = """
import atexit, sys, threading
from flux_sdk._cli._process import exit_now, pause_collector, resume_collector
pause_collector()
resume_collector()
done = threading.Event()
def worker():
    done.wait(30)
    print("thread done", flush=True)
threading.Thread(target=worker).start()
atexit.register(print, "atexit ran")
sys.stdout.write("unflushed ")
done.set()
exit_now(3)
print("returned")
raise SystemExit(7)
"""

_COLLECTOR = """
import gc
from flux_sdk._cli._process import pause_collector, resume_collector
pause_collector()
paused = gc.isenabled()
resume_collector()
print(paused, gc.isenabled(), gc.get_freeze_count() > 0)
"""


def _python(code: str, *options: str) -> subprocess.CompletedProcess[str]:
    # Buffered stdout, as a console script's is when piped.
    env = {key: value for key, value in environment().items() if key != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, *options, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=LIMIT,
        check=False,
    )


def test_exit_now_joins_threads_runs_atexit_and_flushes_then_exits() -> None:
    result = _python(_EXIT)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == ["unflushed thread done", "atexit ran"]


def test_a_watched_process_exits_as_usual() -> None:
    # -X dev stands for every watcher (debugger, profiler, coverage): exit_now returns.
    result = _python(_EXIT, "-X", "dev")
    assert result.returncode == 7, result.stderr
    # The thread and "returned" race here: only the interpreter's own exit waits for it.
    lines = result.stdout.replace("unflushed ", "").splitlines()
    assert sorted(lines) == ["atexit ran", "returned", "thread done"]
    assert lines[-1] == "atexit ran"


def test_exit_now_leaves_a_broken_stdout_to_the_interpreter() -> None:
    code = "import os, sys\nos.close(1)\nprint('x')\nfrom flux_sdk._cli._process import exit_now\n"
    code += "exit_now(0)\n"
    result = _python(code)
    # The interpreter's own verdict on an unwritable stdout: status 120, not exit_now's 0.
    assert result.returncode == 120, result.stderr


def test_the_collector_pauses_then_freezes_and_resumes() -> None:
    result = _python(_COLLECTOR)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]
    watched = _python(_COLLECTOR, "-X", "dev")
    assert watched.stdout.split() == ["True", "True", "False"]
