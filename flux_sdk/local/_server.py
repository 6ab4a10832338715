"""Start and stop the local Space (``_app.py``) as a subprocess.

Standard library only: the SDK's tests and CLI import this module where Gradio is not
importable; Gradio only has to exist in the interpreter passed as ``python``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from .._spaces import SpaceDescriptor

__all__ = ["DEFAULT_STEP_DELAY", "LocalSpace"]

logger = logging.getLogger("flux_sdk.local")

DEFAULT_STEP_DELAY: Final = 0.15
"""Seconds per inference step by default: the shortest with which every step's progress arrives.

Gradio sends only the latest progress update every 0.1 s (0.01 s on Gradio 6), so shorter
steps are overwritten unseen and a stream yields few or no `Progress` events. Measured on
Gradio 4.44, 5.50 and 6.31 with both cores busy: 0.125 s lost steps, 0.15 s lost none.
"""

_APP_PATH: Final = Path(__file__).with_name("_app.py")
_READY_PREFIX: Final = "FLUX-LOCAL-READY "  # _app.READY_PREFIX; _app cannot be imported here
_TAIL_LINES: Final = 200
_STOP_TIMEOUT: Final = 10.0
_PORT_ATTEMPTS: Final = 3
# Gradio's messages when the port was taken between our probe and its bind.
_PORT_TAKEN: Final = ("Cannot find empty port", "address already in use")


class LocalSpace:
    """A local copy of the FLUX.1-schnell Space, served by a real Gradio app on 127.0.0.1.

    The app has the Space's exact API (``infer``, fn_index 2, same inputs, limits and outputs)
    and draws a deterministic placeholder image instead of running the model. It runs in a
    subprocess under ``python``, which must have ``gradio`` (4.44, 5.x or 6.x) installed.

    Example:
        >>> with LocalSpace(faults=True, scale=8) as space:  # doctest: +SKIP
        ...     client = FluxClient(space.url)

    Args:
        python: Interpreter that runs the app; defaults to ``sys.executable``.
        port: Port on 127.0.0.1; None picks a free one.
        faults: Enable the prompt fault tags (``[error]``, ``[quota]``, ``[gpu]``, ``[crash]``,
            ``[slow]``, ``[info]``).
        step_delay: Seconds slept per inference step. The default, `DEFAULT_STEP_DELAY`
            (0.15), makes every step's `Progress` event reach the client, as on the Space;
            0 is faster but Gradio then sends almost no progress.
        scale: Divide the requested image size by this factor (keeps tests fast).
        concurrency_limit: Jobs run at once; None keeps the Space's default of 1.
        max_size: Queue capacity; None is unbounded, as on the Space.
        startup_timeout: Seconds to wait for the app to be ready.
        space: Which Space's API, named as the clients' ``space=`` names it:
            ``"flux-schnell"`` (default), or ``"flux-dev"`` (or ``FLUX_DEV``) for the
            FLUX.1-dev Space's, which takes ``guidance_scale`` and streams preview images.
        model: The older spelling of ``space``: ``"schnell"`` or ``"dev"``.
        always: A fault tag applied to every prompt (``"quota"``, ``"gpu"``, ...): a Space
            that always fails that way, for tests of pools and failover.

    Raises:
        ValueError: If an argument is out of range.

    """

    def __init__(
        self,
        *,
        python: str | None = None,
        port: int | None = None,
        faults: bool = False,
        step_delay: float = DEFAULT_STEP_DELAY,
        scale: int = 1,
        concurrency_limit: int | None = None,
        max_size: int | None = None,
        startup_timeout: float = 120.0,
        model: str | None = None,
        always: str | None = None,
        space: str | SpaceDescriptor | None = None,
    ) -> None:
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port must be in 1..65535, got {port}")
        if step_delay < 0:
            raise ValueError(f"step_delay must be >= 0, got {step_delay}")
        if scale < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        if concurrency_limit is not None and concurrency_limit < 1:
            raise ValueError(f"concurrency_limit must be >= 1, got {concurrency_limit}")
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        kind = _replica_of(space, model)
        if startup_timeout <= 0:
            raise ValueError(f"startup_timeout must be > 0, got {startup_timeout}")
        self.python: str = python or sys.executable
        self.port: int | None = port
        self.faults: bool = faults
        self.step_delay: float = step_delay
        self.scale: int = scale
        self.concurrency_limit: int | None = concurrency_limit
        self.max_size: int | None = max_size
        self.startup_timeout: float = startup_timeout
        self.space: str = kind
        """``"flux-schnell"`` or ``"flux-dev"``: the Space whose API the replica serves."""
        self.always: str | None = always

        self._lock = threading.Lock()
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._finalizer: weakref.finalize[[subprocess.Popen[str]], LocalSpace] | None = None
        self._url: str | None = None
        self._gradio_version: str | None = None

    def __repr__(self) -> str:
        process = self._process
        if self._url is not None and process is not None:
            return f"<LocalSpace {self._url} pid={process.pid} running>"
        return f"<LocalSpace python={self.python!r} stopped>"

    # The protocol's own signature, as every context manager in the package spells it.
    def __enter__(self) -> LocalSpace:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def model(self) -> str:
        """The older name of `space`: ``"schnell"`` or ``"dev"``."""
        return self.space.removeprefix("flux-")

    @property
    def url(self) -> str:
        """Base URL of the running app, e.g. ``http://127.0.0.1:7860``.

        Raises:
            RuntimeError: If the app is not running.

        """
        if self._url is None:
            raise RuntimeError("LocalSpace is not running; call start() first")
        return self._url

    @property
    def running(self) -> bool:
        """Whether the app has started and its process is still alive."""
        process = self._process
        return self._url is not None and process is not None and process.poll() is None

    @property
    def output(self) -> str:
        """The last lines (up to 200) the app wrote to stdout and stderr."""
        return "\n".join(self._tail)

    @property
    def gradio_version(self) -> str:
        """The Gradio version serving the app, read from ``GET /config``.

        Raises:
            RuntimeError: If the app is not running or ``/config`` has no version.

        """
        if self._gradio_version is None:
            # An empty ProxyHandler: a proxy from the environment must never see loopback calls.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"{self.url}/config", timeout=10.0) as response:
                config: object = json.load(response)
            version = (
                cast("dict[str, object]", config).get("version")
                if isinstance(config, dict)
                else None
            )
            if not isinstance(version, str):
                raise RuntimeError(f"{self.url}/config has no Gradio version")
            self._gradio_version = version
        return self._gradio_version

    def start(self) -> str:
        """Start the app and wait until it serves requests; does nothing if already running.

        Returns:
            The base URL, e.g. ``http://127.0.0.1:7860``.

        Raises:
            RuntimeError: If ``python`` cannot be run, or the app exits or is not ready within
                ``startup_timeout``; the message ends with the app's last output lines.

        """
        with self._lock:
            if self._url is not None:
                return self._url
            attempts = 1 if self.port is not None else _PORT_ATTEMPTS
            for attempt in range(1, attempts + 1):
                try:
                    self._url = self._launch(self.port or _free_port())
                except _PortTakenError as exc:
                    if attempt == attempts:
                        raise RuntimeError(str(exc)) from None
                    logger.debug("port taken before the app could bind it; retrying")
                else:
                    break
            logger.info("local Space ready at %s", self._url)
            return self.url

    def stop(self) -> None:
        """Stop the app (SIGTERM, then SIGKILL after 10 s) and release everything; idempotent."""
        with self._lock:
            self._cleanup()

    def _command(self, port: int) -> list[str]:
        """Build the app's command line."""
        command = [
            self.python,
            str(_APP_PATH),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--step-delay",
            repr(self.step_delay),
            "--scale",
            str(self.scale),
        ]
        if self.faults:
            command.append("--faults")
        if self.concurrency_limit is not None:
            command += ["--concurrency-limit", str(self.concurrency_limit)]
        if self.max_size is not None:
            command += ["--max-size", str(self.max_size)]
        if self.space != "flux-schnell":
            command += ["--space", self.space]
        if self.always is not None:
            command += ["--always", self.always]
        return command

    def _environment(self, workdir: str) -> dict[str, str]:
        """Build the app's environment: offline, unbuffered, its files under ``workdir``."""
        env = dict(os.environ)
        env.pop("FLUX_LOCAL_FAULTS", None)  # only the ``faults`` argument decides
        env.update(
            HF_HUB_OFFLINE="1",
            GRADIO_ANALYTICS_ENABLED="False",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            PYTHONUNBUFFERED="1",
        )
        # Served images and the examples cache go to the per-instance directory removed by stop().
        env.setdefault("GRADIO_TEMP_DIR", str(Path(workdir, "files")))
        env.setdefault("GRADIO_EXAMPLES_CACHE", str(Path(workdir, "examples")))
        return env

    def _launch(self, port: int) -> str:
        """Run one start attempt on ``port`` and return the URL the app announced.

        Raises:
            _PortTakenError: If the app could not bind ``port``.
            RuntimeError: If the app exits or is not ready in time.

        """
        self._tail.clear()
        workdir = tempfile.TemporaryDirectory(prefix="flux-local-", ignore_cleanup_errors=True)
        self._workdir = workdir
        command = self._command(port)
        logger.debug("starting local Space: %s", command)
        try:
            process = subprocess.Popen(
                command,
                cwd=workdir.name,
                env=self._environment(workdir.name),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            self._cleanup()
            raise RuntimeError(f"cannot run the local Space with {self.python!r}: {exc}") from exc
        self._process = process
        # Never leave an orphan server behind if the owner forgets stop().
        self._finalizer = weakref.finalize(self, _terminate, process)
        assert process.stdout is not None  # stdout=PIPE
        lines: queue.Queue[str | None] = queue.Queue()
        ready = threading.Event()
        self._reader = threading.Thread(
            target=_pump,
            args=(process.stdout, self._tail, lines, ready),
            name=f"flux-local-{process.pid}-output",
            daemon=True,
        )
        self._reader.start()

        deadline = time.monotonic() + self.startup_timeout
        exited = False
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:  # EOF: the app closed its output, so it is exiting
                exited = True
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=_STOP_TIMEOUT)  # for its real exit status
                break
            if line.startswith(_READY_PREFIX):
                ready.set()
                return line[len(_READY_PREFIX) :].strip()
        self._cleanup()
        tail = self.output
        failure = _PortTakenError if any(marker in tail for marker in _PORT_TAKEN) else RuntimeError
        if exited:
            reason = f"exited with status {process.returncode}"
        else:
            reason = f"was not ready within {self.startup_timeout:g} s"
        raise failure(f"local Space ({' '.join(command)}) {reason}. Output:\n{tail}")

    def _cleanup(self) -> None:
        """Stop the process and reader thread and remove the work directory; idempotent."""
        process, reader, workdir = self._process, self._reader, self._workdir
        self._process = self._reader = self._workdir = None
        self._url = None
        self._gradio_version = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if process is not None:
            _terminate(process)
        if reader is not None:
            # EOF follows the process exit unless a grandchild inherited the pipe.
            reader.join(timeout=_STOP_TIMEOUT)
        reader_done = reader is None or not reader.is_alive()
        if process is not None and process.stdout is not None and reader_done:
            process.stdout.close()
        if workdir is not None:
            workdir.cleanup()


def _replica_of(space: str | SpaceDescriptor | None, model: str | None) -> str:
    """``"flux-schnell"`` or ``"flux-dev"`` for the ``space`` (or older ``model``) given.

    Raises:
        ValueError: Neither names one of the two Spaces, or they disagree.
    """
    if model is not None and model not in ("schnell", "dev"):
        raise ValueError(f"model must be 'schnell' or 'dev', got {model!r}")
    if space is None:
        return f"flux-{model or 'schnell'}"
    # Imported here: this module stays importable (and cheap) without the SDK's dependencies.
    from .._spaces import FLUX_DEV, FLUX_SCHNELL, resolve_space

    try:
        descriptor = resolve_space(space)
    except ValueError:  # InvalidRequestError
        descriptor = None
    if descriptor not in (FLUX_SCHNELL, FLUX_DEV):
        raise ValueError(f"space must be 'flux-schnell' or 'flux-dev', got {space!r}")
    assert descriptor is not None
    kind = descriptor.aliases[0]
    if model is not None and kind != f"flux-{model}":
        raise ValueError(f"space={space!r} and model={model!r} name different Spaces")
    return kind


class _PortTakenError(RuntimeError):
    """The app could not bind the port it was given."""


def _free_port() -> int:
    """Return a port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _terminate(process: subprocess.Popen[str]) -> None:
    """SIGTERM ``process``, SIGKILL it after 10 s, and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pump(
    stream: IO[str],
    tail: collections.deque[str],
    lines: queue.Queue[str | None],
    ready: threading.Event,
) -> None:
    """Drain the app's output until EOF so it never blocks on a full pipe.

    Every line goes to ``tail``; until ``ready`` is set, lines also go to ``lines`` for
    ``LocalSpace._launch``, and EOF is signalled there with None.
    """
    try:
        for raw in stream:
            line = raw.rstrip("\r\n")
            tail.append(line)
            if ready.is_set():
                logger.debug("local Space: %s", line)
            else:
                lines.put(line)
    except (OSError, ValueError):
        pass  # the pipe was closed under us by stop()
    finally:
        lines.put(None)
