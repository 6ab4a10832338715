"""Run ``flux`` in a subprocess: with pipes (machine-readable mode) or on a pseudo-terminal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

FLUX = [sys.executable, "-m", "flux_sdk._cli"]
# A bound so that a broken test fails instead of hanging; no test asserts on time.
LIMIT = 180.0


def environment() -> dict[str, str]:
    """This environment, without a token, and never through a proxy (127.0.0.1 only)."""
    env = {key: value for key, value in os.environ.items() if key != "HF_TOKEN"}
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


def run_flux(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """``flux ARGS`` with stdout and stderr captured (so neither is a terminal)."""
    return subprocess.run(
        [*FLUX, *args],
        capture_output=True,
        cwd=cwd,
        env=environment(),
        stdin=subprocess.DEVNULL,
        timeout=LIMIT,
        check=False,
    )


@dataclass
class TerminalRun:
    """What a run on a pseudo-terminal printed (stdout and stderr together) and its status."""

    returncode: int
    output: bytes

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")


def run_in_terminal(
    args: Sequence[str],
    *,
    cwd: Path,
    on_output: Callable[[bytes, subprocess.Popen[bytes]], None] | None = None,
) -> TerminalRun:
    """``flux ARGS`` on a pseudo-terminal; ``on_output`` sees everything printed so far."""
    import pty

    master, slave = pty.openpty()
    env = environment()
    env.update(COLUMNS="120", LINES="40", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [*FLUX, *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env
    )
    os.close(slave)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], LIMIT)
            if not ready:
                process.kill()
                raise AssertionError(f"no output for {LIMIT} s; so far: {output!r}")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side closed, the process has exited
                break
            if not chunk:
                break
            output += chunk
            if on_output is not None:
                on_output(output, process)
        returncode = process.wait(timeout=LIMIT)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return TerminalRun(returncode=returncode, output=output)
