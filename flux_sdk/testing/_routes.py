"""The fake's HTTP routes: each request to the answer Gradio gives, or to the scheduler.

`route` reads the method and path the way the Gradio line routes them (the ``/gradio_api``
prefix from 5.x, §1), checks bodies as FastAPI does, and hands submissions, streams and
cancels to the `Scheduler`.
"""

from __future__ import annotations

import email.utils
import hashlib

import httpx

from . import _gradio as gradio
from ._apps import INFER_FN_INDEX
from ._records import RecordedRequest
from ._responses import (
    Refused,
    data_list,
    event_stream,
    internal_error,
    json_body,
    json_response,
    missing,
    not_allowed,
    not_found,
    optional_str,
)
from ._scheduler import Scheduler
from ._streams import Broken, CallStream, Heartbeats, QueueStream

__all__ = ["route"]


def route(
    scheduler: Scheduler, request: httpx.Request, recorded: RecordedRequest
) -> httpx.Response:
    """Answer one request for the emulated server.

    Raises:
        Refused: The answer is an HTTP error.
        httpx.ConnectError: A scripted `Fail.unreachable` submission.
    """
    method, path = recorded.method, recorded.path
    line, app = scheduler.line, scheduler.app
    if path == "/config":
        _allow(method, "GET")
        return json_response(200, app.config(_root(request)))
    if not path.startswith(line.api_prefix + "/"):
        raise Refused(not_found())
    rest = path[len(line.api_prefix) :]
    if rest == "/info":
        _allow(method, "GET")
        return json_response(200, app.info(_root(request)))
    if rest == "/queue/join":
        _allow(method, "POST")
        return _join(scheduler, request, recorded)
    if rest == "/queue/data":
        _allow(method, "GET")
        return _queue_stream(scheduler, request.url.params.get("session_hash", ""))
    if rest == "/cancel":
        _allow(method, "POST")
        body = json_body(recorded)
        absent = [key for key in ("session_hash", "fn_index", "event_id") if key not in body]
        if absent:
            raise Refused(missing(body, absent[0]))
        with scheduler.lock:
            scheduler.cancel(str(body["event_id"]), body["session_hash"], body["fn_index"])
        return json_response(200, {"success": True})
    if rest.startswith("/file="):
        _allow(method, "GET", "HEAD")
        return _file(scheduler, rest[len("/file=") :], head=method == "HEAD")
    if rest.startswith("/call/"):
        return _call(scheduler, request, recorded, rest[len("/call/") :])
    raise Refused(not_found())


def _join(
    scheduler: Scheduler, request: httpx.Request, recorded: RecordedRequest
) -> httpx.Response:
    body = json_body(recorded)
    data = data_list(body)
    session_hash = body.get("session_hash")
    if not isinstance(session_hash, str) or not session_hash:
        raise Refused(json_response(400, {"detail": "Session hash not found."}))
    fn_index = body.get("fn_index")
    if fn_index is None:
        raise Refused(json_response(400, {"detail": "No function index provided."}))
    if fn_index != INFER_FN_INDEX or isinstance(fn_index, bool):
        # Only `infer` is emulated; Gradio answers an unknown fn_index like this too.
        raise Refused(internal_error())
    with scheduler.lock:
        event_id = scheduler.submit(
            request, recorded, "queue", data, session_hash, root=_root(request)
        )
    return json_response(200, {"event_id": event_id})


def _call(
    scheduler: Scheduler, request: httpx.Request, recorded: RecordedRequest, rest: str
) -> httpx.Response:
    if rest == "v2/infer" and recorded.method == "POST":
        if not scheduler.line.call_error_text:  # /call/v2 came with 6.13
            raise Refused(not_allowed())
        data = scheduler.app.named_inputs(json_body(recorded))
    elif "/" in rest:
        api_name, _, event_id = rest.partition("/")
        if recorded.method != "GET" or "/" in event_id:
            raise Refused(not_allowed())
        return _call_stream(scheduler, event_id if api_name == "infer" else "")
    elif recorded.method != "POST":
        raise Refused(not_allowed())
    elif rest == "infer":
        body = json_body(recorded)
        data = data_list(body)
        # SimplePredictBody's optional session_hash: a string or null, else FastAPI's 422.
        session_hash = optional_str(body, "session_hash")
        if session_hash:
            # Gradio queues a /call/ job that names a session in that session, as queue/join
            # does: its messages go to queue/data, its outputs whole (simple_format).
            with scheduler.lock:
                event_id = scheduler.submit(
                    request, recorded, "queue", data, session_hash, root=_root(request), whole=True
                )
            return json_response(200, {"event_id": event_id})
    else:
        raise Refused(internal_error())
    with scheduler.lock:
        event_id = scheduler.submit(request, recorded, "call", data, None, root=_root(request))
    return json_response(200, {"event_id": event_id})


def _queue_stream(scheduler: Scheduler, session_hash: str) -> httpx.Response:
    with scheduler.lock:
        session = scheduler.sessions.get(session_hash)
    if session is None:
        # Gradio sends the error, then drops the connection mid-body.
        return event_stream(Broken(gradio.queue_event(gradio.unexpected_error(scheduler.line))))
    return event_stream(QueueStream(scheduler, session))


def _call_stream(scheduler: Scheduler, event_id: str) -> httpx.Response:
    with scheduler.lock:
        run = scheduler.runs.get(event_id)
        job = run.job if run is not None else None
        if run is None or job is None or job.protocol != "call" or run.reader == "dropped":
            # Unknown, or its first reader left before the result: the session is gone.
            chunk = gradio.call_event("error", scheduler.line.session_not_found)
            return event_stream(Broken(chunk))
        if run.reader != "none":
            # A second GET of the same event: Gradio only sends heartbeats, forever.
            return event_stream(Heartbeats(gradio.call_event("heartbeat", None)))
        run.reader = "open"
    return event_stream(CallStream(scheduler, run))


def _file(scheduler: Scheduler, path: str, *, head: bool) -> httpx.Response:
    with scheduler.lock:
        image = scheduler.files.get(path)
    if image is None:
        raise Refused(json_response(403, {"detail": f"File not allowed: {path}."}))
    headers = [
        ("accept-ranges", "bytes"),
        ("content-type", "image/webp"),
        ("content-disposition", 'inline; filename="image.webp"'),
        ("content-length", str(len(image))),
        ("last-modified", email.utils.formatdate(usegmt=True)),
        ("etag", f'"{hashlib.md5(image, usedforsecurity=False).hexdigest()}"'),
    ]
    return httpx.Response(200, headers=headers, content=b"" if head else image)


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise Refused(not_allowed())


def _root(request: httpx.Request) -> str:
    """The server's URL as Gradio builds file URLs from it, honouring X-Forwarded-* (§5)."""
    scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
    host = request.headers.get("x-forwarded-host", request.url.netloc.decode("ascii"))
    return f"{scheme}://{host}"
