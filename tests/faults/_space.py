"""A Gradio 6 FLUX Space on a `FaultServer`: healthy by default, one route swapped per fault.

The healthy answers follow the captured Gradio 6.31 exchanges (tests/data/protocol, g6/01, g6/20,
g6/21, g6/11, g6/12, g6/40, g6/50-53): ``/config`` is the captured body itself.

Both protocols submit to ``POST {prefix}/call/infer``, as the SDK does: a body naming a
``session_hash`` is a queue job in that session (its messages on ``queue/data``), as Gradio's
``simple_predict_post`` queues it exactly as ``queue/join`` would; a body without one is a
``/call/`` job, followed at ``call/infer/{event_id}``. ``queue/join`` is still served, as Gradio
does, for a client that joins by ``fn_index``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Literal, cast

from tests.faults._server import SSE_TYPE, Exchange, FaultServer, Handler, Request
from tests.transcripts import load

Protocol = Literal["queue", "call"]
PROTOCOLS: tuple[Protocol, ...] = ("queue", "call")

PREFIX = "/gradio_api"
IMAGE_PATH = "/tmp/gradio/5d0c3e1f9b7a4b2e8c6d/image.webp"
IMAGE = b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(range(256)) * 4
SEED = 1234
CONFIG = load("gradio6/01-get-config.txt").body


def queue_message(message: Mapping[str, object]) -> bytes:
    """One ``queue/data`` block: ``data:`` only, compact JSON as Gradio's orjson writes it."""
    return b"data: " + json.dumps(message, separators=(",", ":")).encode() + b"\n\n"


def call_message(event: str, data: object) -> bytes:
    """One ``/call/`` block: ``event:`` and ``data:``."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def html_page(title: str, status: int) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{status}</h1><p>The Space's proxy said no.</p></body></html>"
    )


def submitted_protocol(request: Request) -> Protocol:
    """Which protocol a ``POST call/infer`` submits on: queue when its body names a session.

    As Gradio's ``SimplePredictBody``: an optional ``session_hash``; a body that is not JSON
    counts as a ``/call/`` one (the SDK never sends one).
    """
    try:
        body = cast(object, json.loads(request.body))
    except ValueError:
        return "call"
    if not isinstance(body, dict):
        return "call"
    session_hash = cast("dict[str, object]", body).get("session_hash")
    return "queue" if isinstance(session_hash, str) and session_hash else "call"


class FakeSpace:
    """The Space's routes on ``server``; each one can be replaced by a fault."""

    def __init__(self, server: FaultServer) -> None:
        self.server = server
        self.result_url: str = f"{server.url}{PREFIX}/file={IMAGE_PATH}"
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}
        self._cancelled: set[str] = set()
        self._count = 0
        # Which handler answers a call/infer submission, by the protocol its body names.
        self._submit_handlers: dict[Protocol, Handler] = {
            "queue": self._join,
            "call": self._call_post,
        }
        server.route("GET", "/config", self._config)
        server.route("POST", f"{PREFIX}/queue/join", self._join)
        server.route("GET", f"{PREFIX}/queue/data", self._queue_stream)
        server.route("POST", f"{PREFIX}/call/infer", self._submit)
        server.route("GET", f"{PREFIX}/call/infer/", self._call_stream)
        server.route("POST", f"{PREFIX}/cancel", self._cancel)
        server.route("GET", f"{PREFIX}/file=", self._file)

    @property
    def url(self) -> str:
        return self.server.url

    # -- what the tests look at -----------------------------------------------------------------

    def submits(self, protocol: Protocol) -> list[Request]:
        """The submissions of ``protocol``'s jobs: ``POST call/infer``, told apart by the body."""
        path = f"{PREFIX}/call/infer"
        return [
            r
            for r in self.server.requests("POST", path)
            if r.path == path and submitted_protocol(r) == protocol
        ]

    def streams(self, protocol: Protocol) -> list[Request]:
        path = f"{PREFIX}/queue/data" if protocol == "queue" else f"{PREFIX}/call/infer/"
        return self.server.requests("GET", path)

    def cancels(self) -> list[object]:
        """The event_ids the client asked to cancel."""
        return [r.json().get("event_id") for r in self.server.requests("POST", f"{PREFIX}/cancel")]

    def files(self) -> list[Request]:
        return self.server.requests("GET", f"{PREFIX}/file=")

    # -- replacing a route ------------------------------------------------------------------------

    def on_config(self, handler: Handler) -> None:
        self.server.route("GET", "/config", handler)

    def on_submit(self, protocol: Protocol, handler: Handler) -> None:
        """Replace the answer to ``protocol``'s submissions (the other protocol's stay)."""
        with self._lock:
            self._submit_handlers[protocol] = handler

    def on_stream(self, protocol: Protocol, handler: Handler) -> None:
        """Replace the job's event stream (the submission still succeeds)."""
        if protocol == "queue":
            self.server.route("GET", f"{PREFIX}/queue/data", handler)
        else:
            self.server.route("GET", f"{PREFIX}/call/infer/", handler)

    def on_file(self, handler: Handler) -> None:
        self.server.route("GET", f"{PREFIX}/file=", handler)

    def healthy_submit(self, protocol: Protocol) -> Handler:
        """The healthy submission handler, for faults that pass some requests through."""
        return self._join if protocol == "queue" else self._call_post

    # -- the job's state --------------------------------------------------------------------------

    def event_id(self, request: Request) -> str:
        """The event_id a stream request is for (queue: by session_hash; /call/: in the path)."""
        if request.path.startswith(f"{PREFIX}/call/infer/"):
            return request.path.rsplit("/", 1)[1]
        with self._lock:
            return self._sessions[request.query["session_hash"]]

    def cancelled(self, event_id: str) -> bool:
        with self._lock:
            return event_id in self._cancelled

    def filedata(self, url: str | None = None) -> dict[str, object]:
        return {
            "path": IMAGE_PATH,
            "url": self.result_url if url is None else url,
            "size": None,
            "orig_name": "image.webp",
            "mime_type": None,
            "is_stream": False,
            "meta": {"_type": "gradio.FileData"},
        }

    def completed(self, event_id: str) -> bytes:
        return queue_message(
            {
                "msg": "process_completed",
                "event_id": event_id,
                "output": {"data": [self.filedata(), SEED], "is_generating": False},
                "success": True,
                "title": None,
            }
        )

    def success(self, protocol: Protocol, event_id: str) -> list[bytes]:
        """The blocks of a successful job's stream."""
        if protocol == "call":
            return [call_message("complete", [self.filedata(), SEED])]
        return [
            queue_message(
                {
                    "msg": "estimation",
                    "event_id": event_id,
                    "rank": 0,
                    "queue_size": 1,
                    "rank_eta": None,
                }
            ),
            queue_message({"msg": "process_starts", "event_id": event_id, "eta": None}),
            self.completed(event_id),
            queue_message({"msg": "close_stream", "event_id": None}),
        ]

    def heartbeat(self, protocol: Protocol) -> bytes:
        if protocol == "call":
            return call_message("heartbeat", None)
        return queue_message({"msg": "heartbeat", "event_id": None})

    def cancelled_result(self, protocol: Protocol, event_id: str) -> list[bytes]:
        """What Gradio sends once a job is cancelled (§4.4)."""
        if protocol == "call":
            return [call_message("complete", None)]
        return [
            queue_message(
                {"msg": "process_completed", "event_id": event_id, "output": {}, "success": True}
            ),
            queue_message({"msg": "close_stream", "event_id": None}),
        ]

    def keep_streaming(
        self,
        protocol: Protocol,
        request: Request,
        exchange: Exchange,
        *,
        send: Callable[[int], bytes | None],
        every: float,
        limit: int = 200,
    ) -> None:
        """Stream ``send(i)`` every ``every`` s until it returns None, the job is cancelled (then
        answer as Gradio does), or ``limit`` blocks: the bounded loop behind the slow faults."""
        event_id = self.event_id(request)
        for number in range(limit):
            if self.cancelled(event_id):
                for block in self.cancelled_result(protocol, event_id):
                    exchange.chunk(block)
                exchange.end_stream()
                return
            data = send(number)
            if data is None:
                break
            exchange.chunk(data)
            exchange.pause(every)
        exchange.end_stream()

    # -- the healthy routes -----------------------------------------------------------------------

    def _config(self, _request: Request, exchange: Exchange) -> None:
        exchange.respond(200, CONFIG)

    def _new_event_id(self) -> str:
        with self._lock:
            self._count += 1
            return f"{self._count:032x}"

    def _submit(self, request: Request, exchange: Exchange) -> None:
        with self._lock:
            handler = self._submit_handlers[submitted_protocol(request)]
        handler(request, exchange)

    def _join(self, request: Request, exchange: Exchange) -> None:
        session = request.json()["session_hash"]
        assert isinstance(session, str)
        event_id = self._new_event_id()
        with self._lock:
            self._sessions[session] = event_id
        exchange.respond_json({"event_id": event_id})

    def _call_post(self, _request: Request, exchange: Exchange) -> None:
        exchange.respond_json({"event_id": self._new_event_id()})

    def _queue_stream(self, request: Request, exchange: Exchange) -> None:
        self._stream(request, exchange, "queue")

    def _call_stream(self, request: Request, exchange: Exchange) -> None:
        self._stream(request, exchange, "call")

    def _stream(self, request: Request, exchange: Exchange, protocol: Protocol) -> None:
        exchange.start_stream()
        for block in self.success(protocol, self.event_id(request)):
            exchange.chunk(block)
        exchange.end_stream()

    def _cancel(self, request: Request, exchange: Exchange) -> None:
        event_id = request.json().get("event_id")
        if isinstance(event_id, str):
            with self._lock:
                self._cancelled.add(event_id)
        exchange.respond_json({"success": True})

    def _file(self, _request: Request, exchange: Exchange) -> None:
        exchange.respond(
            200,
            IMAGE,
            content_type="image/webp",
            headers={"content-disposition": 'inline; filename="image.webp"'},
        )


__all__ = [
    "CONFIG",
    "IMAGE",
    "IMAGE_PATH",
    "PREFIX",
    "PROTOCOLS",
    "SEED",
    "SSE_TYPE",
    "FakeSpace",
    "Protocol",
    "call_message",
    "html_page",
    "queue_message",
    "submitted_protocol",
]
