"""A tiny stdlib HTTP server on 127.0.0.1 serving fixed-size fake images, for the save check."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

_CHUNK = 64 * 1024


class FileServer:
    """Serves ``GET /<n>.webp``: ``n`` bytes of a fixed pattern, with a Content-Length."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, size: int) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{size}.webp"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    _pattern = bytes(range(256)) * (_CHUNK // 256)

    def do_GET(self) -> None:
        try:
            size = int(self.path.strip("/").removesuffix(".webp"))
        except ValueError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/webp")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        remaining = size
        while remaining > 0:
            chunk = self._pattern[: min(_CHUNK, remaining)]
            self.wfile.write(chunk)
            remaining -= len(chunk)

    def log_message(self, format: str, *args: object) -> None:
        return None
