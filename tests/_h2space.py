"""The Space's replica over TLS and HTTP/2: the real Gradio app, served by hypercorn.

``flux_sdk.local`` launches its Gradio app under uvicorn, which speaks HTTP/1.1 only. Here the
same app (``flux_sdk/local/_app.py``'s ``build_app``) is mounted with ``gr.mount_gradio_app``
and served by hypercorn with a certificate from a CA the caller makes (``trustme``), offering
``h2`` and ``http/1.1`` by ALPN, as the Space's https front does. Around the app, a recorder
notes each request's HTTP version, the client's port (one per TCP connection), method, path
and status, served as JSON on ``GET /_h2/log``: the tests and ``benchmarks/http2.py`` count
connections and check the protocol at the server, not in the client under test.

This file is both the server (run by path under an interpreter with Gradio and hypercorn:
``python tests/_h2space.py --certfile ... --keyfile ...``) and its controller, `H2Space`, which
needs only the standard library and ``trustme``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import trustme

__all__ = ["H2Space", "Seen", "connections"]

READY: Final = "FLUX-H2-READY "
LOG_PATH: Final = "/_h2/log"
_APP: Final = Path(__file__).resolve().parent.parent / "flux_sdk" / "local" / "_app.py"
_STARTUP_TIMEOUT: Final = 120.0
_STOP_TIMEOUT: Final = 10.0
_WAIT_LIMIT: Final = 60.0

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_ASGIApp = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    http_version: str
    """``"2"`` or ``"1.1"``, from the ASGI scope."""
    port: int
    """The client's port: requests with the same one came on the same TCP connection."""
    method: str
    path: str
    status: int | None
    """None while (or if) no response was started."""


class H2Space:
    """Run the replica over TLS + HTTP/2 on 127.0.0.1 for as long as the context is open.

    Args:
        ca: The CA that issues the server's certificate for 127.0.0.1 (clients trust it).
        python: Interpreter with Gradio and hypercorn; defaults to ``sys.executable``.
        step_delay: Seconds per inference step (0: zero-cost jobs).
        scale: Divide image sides by this.
        concurrency_limit: Jobs run at once; None is unlimited.
        faults: Honour the replica's prompt fault tags (``[slow]``...).
    """

    def __init__(
        self,
        ca: trustme.CA,
        *,
        python: str | None = None,
        step_delay: float = 0.0,
        scale: int = 16,
        concurrency_limit: int | None = None,
        faults: bool = True,
    ) -> None:
        self._ca = ca
        # Absolute: the server runs in a directory of its own.
        self._python = os.path.abspath(python or sys.executable)
        self._arguments = ["--step-delay", repr(step_delay), "--scale", str(scale)]
        if concurrency_limit is not None:
            self._arguments += ["--concurrency-limit", str(concurrency_limit)]
        if faults:
            self._arguments.append("--faults")
        self._process: subprocess.Popen[str] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._output: list[str] = []
        self.url = ""
        """``https://127.0.0.1:PORT`` once started."""
        self.ca_bundle = ""
        """Path of the CA's certificate, for ``verify=``."""

    def __enter__(self) -> H2Space:
        workdir = tempfile.TemporaryDirectory(prefix="flux-h2-", ignore_cleanup_errors=True)
        self._workdir = workdir
        root = Path(workdir.name)
        leaf = self._ca.issue_cert("127.0.0.1")
        leaf.private_key_and_cert_chain_pem.write_to_path(str(root / "server.pem"))
        self._ca.cert_pem.write_to_path(str(root / "ca.pem"))
        self.ca_bundle = str(root / "ca.pem")
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "GRADIO_TEMP_DIR": str(root / "files"),
            "NO_PROXY": "*",
            "PYTHONUNBUFFERED": "1",
        }
        command = [self._python, __file__, "--pem", str(root / "server.pem"), *self._arguments]
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._process = process
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        if not ready.wait(_STARTUP_TIMEOUT) or not self.url:
            self.__exit__(None, None, None)
            tail = "\n".join(self._output[-40:])
            raise RuntimeError(f"the HTTP/2 replica did not start. Output:\n{tail}")
        return self

    def _pump(self, ready: threading.Event) -> None:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        for line in process.stdout:
            self._output.append(line.rstrip("\n"))
            if line.startswith(READY):
                self.url = line[len(READY) :].strip()
                ready.set()
        ready.set()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process, workdir = self._process, self._workdir
        self._process = self._workdir = None
        if process is not None:
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if workdir is not None:
            workdir.cleanup()

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the CA (HTTP/1.1 only: the log's own reads)."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    def seen(self) -> list[Seen]:
        """Every request so far, in arrival order (the log's own reads excepted)."""
        return self._read(LOG_PATH)

    def wait_for(self, suffix: str, count: int = 1) -> list[Seen]:
        """Every request, once ``count`` to paths ending with ``suffix`` have been answered.

        Raises:
            AssertionError: They were not within `_WAIT_LIMIT` seconds.
        """
        seen = self._read(f"{LOG_PATH}?suffix={suffix}&count={count}")
        answered = [row for row in seen if row.path.endswith(suffix) and row.status is not None]
        if len(answered) < count:
            raise AssertionError(f"the Space never answered {count} x {suffix}; it saw {seen}")
        return seen

    def _read(self, target: str) -> list[Seen]:
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self.ssl_context())
        )
        with opener.open(self.url + target, timeout=_WAIT_LIMIT + 10) as response:
            rows: list[dict[str, Any]] = json.load(response)
        return [Seen(**row) for row in rows]

    def forget(self) -> None:
        """Clear the log (between measurements)."""
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self.ssl_context())
        )
        request = urllib.request.Request(self.url + LOG_PATH, method="DELETE")
        with opener.open(request, timeout=10):
            pass


def connections(seen: Sequence[Seen]) -> int:
    """TCP connections the requests came on (one client port each)."""
    return len({item.port for item in seen})


# The server: run under the Gradio interpreter (`python tests/_h2space.py ...`).


def _recorder(app: _ASGIApp) -> _ASGIApp:
    """``app`` with each HTTP request noted, and the notes served on `LOG_PATH`."""
    import asyncio
    from urllib.parse import parse_qs

    log: list[dict[str, Any]] = []
    changed = asyncio.Condition()

    def answered(suffix: str) -> int:
        return sum(1 for row in log if row["path"].endswith(suffix) and row["status"] is not None)

    async def recorded(scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"] == LOG_PATH:
            if scope["method"] == "DELETE":
                log.clear()
            query = parse_qs(scope["query_string"].decode())
            if "suffix" in query:
                # A long poll: until `count` requests to paths ending so have been answered.
                suffix, count = query["suffix"][0], int(query["count"][0])
                async with changed:
                    with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                        await asyncio.wait_for(
                            changed.wait_for(lambda: answered(suffix) >= count), _WAIT_LIMIT
                        )
            body = json.dumps(log).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        client = scope.get("client") or ("", 0)
        row: dict[str, Any] = {
            "http_version": scope["http_version"],
            "port": client[1],
            "method": scope["method"],
            "path": scope["path"],
            "status": None,
        }
        log.append(row)

        async def noting(message: _Message) -> None:
            if message["type"] == "http.response.start":
                row["status"] = message["status"]
                async with changed:
                    changed.notify_all()
            await send(message)

        await app(scope, receive, noting)

    return recorded


def _load_app_module() -> Any:
    spec = importlib.util.spec_from_file_location("_flux_local_app", _APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _serve(argv: Sequence[str]) -> int:
    import asyncio

    import gradio as gr
    from fastapi import FastAPI
    from hypercorn import asyncio as hypercorn
    from hypercorn.config import Config

    # Gradio's and hypercorn's signatures differ across their versions: called loosely.
    serve: Any = hypercorn.serve  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]

    parser = argparse.ArgumentParser()
    parser.add_argument("--pem", required=True, help="the server's key and certificate chain")
    parser.add_argument("--step-delay", type=float, default=0.0)
    parser.add_argument("--scale", type=int, default=16)
    parser.add_argument("--concurrency-limit", type=int, default=None)
    parser.add_argument("--faults", action="store_true")
    args = parser.parse_args(argv)

    replica = _load_app_module()
    demo = replica.build_app(
        faults=args.faults,
        step_delay=args.step_delay,
        scale=args.scale,
        concurrency_limit=args.concurrency_limit,
    )
    mount: Any = gr.mount_gradio_app  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    optional = {"ssr_mode": False, "mcp_server": False}
    supported = {k: v for k, v in optional.items() if k in inspect.signature(mount).parameters}
    app: _ASGIApp = mount(FastAPI(), demo, path="/", **supported)

    # Bound here, handed to hypercorn by descriptor: the port is known before it serves.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{listener.fileno()}"]
    config.certfile = args.pem
    config.keyfile = args.pem
    config.alpn_protocols = ["h2", "http/1.1"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    # Gradio's SSE streams stay open for a job's length; hypercorn's default keep-alive is
    # longer than any test here, and its graceful stop must not wait for idle streams.
    config.graceful_timeout = 1.0

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)

        async def announce() -> None:
            # hypercorn runs the lifespan (Gradio's queue) before it accepts: poll until ready.
            while True:
                with contextlib.suppress(OSError):
                    probe = socket.create_connection(("127.0.0.1", port), timeout=1)
                    probe.close()
                    break
                await asyncio.sleep(0.05)
            print(f"{READY}https://127.0.0.1:{port}", flush=True)

        announcer = asyncio.ensure_future(announce())
        await serve(_recorder(app), config, shutdown_trigger=stop.wait)
        announcer.cancel()

    asyncio.run(main())
    return 0


if __name__ == "__main__":
    # Run by path, this directory comes first on sys.path, where tests/packaging would shadow
    # the `packaging` that Gradio imports.
    sys.path.remove(str(Path(__file__).resolve().parent))
    sys.exit(_serve(sys.argv[1:]))
