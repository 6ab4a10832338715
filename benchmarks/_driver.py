"""Drives worker subprocesses over their stdin/stdout command channel (see `benchmarks.worker`)."""

from __future__ import annotations

import selectors
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


class WorkerError(RuntimeError):
    """A worker died, answered with an error, or did not answer in time."""


class Worker:
    """One client's process, and the commands it is sent."""

    def __init__(
        self, key: str, command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path
    ) -> None:
        self.key = key
        self._log_path = log
        self._log: IO[str] = log.open("w")
        self._process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )

    def expect(self, word: str, timeout: float) -> None:
        """Wait for the next reply line and check it is ``word``."""
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise WorkerError(f"{self.key}: no {word!r} within {timeout:g} s{self._tail()}")
                line = stdout.readline()
                if not line:
                    raise WorkerError(f"{self.key}: exited ({self._process.poll()}){self._tail()}")
                if line.strip() == word:
                    return
                raise WorkerError(f"{self.key}: answered {line.strip()!r}{self._tail()}")

    def send(self, command: str, timeout: float) -> None:
        """Send one command and wait for its ``ok``."""
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(command + "\n")
            stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"{self.key}: exited{self._tail()}") from None
        self.expect("ok", timeout)

    def close(self, grace: float = 0.0) -> None:
        """End the process (after ``grace`` seconds to exit alone) and release its pipes."""
        try:
            self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
        self._log.close()

    def _tail(self) -> str:
        self._log.flush()
        text = self._log_path.read_text(errors="replace")[-2000:]
        return f"; stderr:\n{text}" if text else ""
