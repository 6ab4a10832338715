"""The HTTP answers Gradio (and FastAPI under it) gives, and `Refused` to return one early."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final, cast

import httpx

from ._records import RecordedRequest

__all__ = [
    "Refused",
    "data_list",
    "event_stream",
    "internal_error",
    "json_body",
    "json_response",
    "missing",
    "not_allowed",
    "not_found",
    "optional_str",
    "queue_full",
]

_JSON: Final = "application/json"
_SSE: Final = "text/event-stream; charset=utf-8"


class Refused(Exception):
    """A response that ends request handling early (an HTTP error)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_response(
    status: int, body: object, headers: Sequence[tuple[str, str]] = ()
) -> httpx.Response:
    """A compact JSON answer, as FastAPI sends it."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return httpx.Response(
        status,
        headers=[("content-length", str(len(content))), ("content-type", _JSON), *headers],
        content=content,
    )


def queue_full(max_size: int, size: int) -> httpx.Response:
    """HTTP 503 for a submission to a full queue."""
    return json_response(
        503, {"detail": f"Queue is full. Max size is {max_size} and size is {size}."}
    )


def not_allowed() -> httpx.Response:
    """HTTP 405, for a route that exists with another method."""
    return json_response(405, {"detail": "Method Not Allowed"})


def not_found() -> httpx.Response:
    """HTTP 404 for an unknown route."""
    return json_response(404, {"detail": "Not Found"})


def internal_error() -> httpx.Response:
    """Gradio's plain-text 500 (e.g. for an unknown ``fn_index``)."""
    content = b"Internal Server Error"
    return httpx.Response(
        500,
        headers=[
            ("content-length", str(len(content))),
            ("content-type", "text/plain; charset=utf-8"),
        ],
        content=content,
    )


def event_stream(body: httpx.AsyncByteStream) -> httpx.Response:
    """A server-sent event stream with ``body`` as its content."""
    return httpx.Response(200, headers=[("content-type", _SSE)], stream=body)


def _unprocessable(error_type: str, loc: list[object], msg: str, value: object) -> httpx.Response:
    """FastAPI's 422 for a body that does not validate."""
    detail: dict[str, object] = {"type": error_type, "loc": loc, "msg": msg, "input": value}
    if error_type == "json_invalid":
        detail["ctx"] = {"error": "Expecting value"}
    return json_response(422, {"detail": [detail]})


def missing(body: dict[str, object], key: str) -> httpx.Response:
    """FastAPI's 422 for a required field the body lacks."""
    return _unprocessable("missing", ["body", key], "Field required", body)


def json_body(recorded: RecordedRequest) -> dict[str, object]:
    """The request's JSON object, or FastAPI's 422."""
    try:
        body = recorded.json()
    except ValueError:
        raise Refused(
            _unprocessable("json_invalid", ["body", 0], "JSON decode error", {})
        ) from None
    if not isinstance(body, dict):
        message = "Input should be a valid dictionary or object to extract fields from"
        raise Refused(_unprocessable("model_attributes_type", ["body"], message, body))
    return cast("dict[str, object]", body)


def optional_str(body: dict[str, object], key: str) -> str | None:
    """The body's optional string field (absent or null: None), or FastAPI's 422."""
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise Refused(
        _unprocessable("string_type", ["body", key], "Input should be a valid string", value)
    )


def data_list(body: dict[str, object]) -> list[object]:
    """The body's ``data`` list, or FastAPI's 422."""
    if "data" not in body:
        raise Refused(missing(body, "data"))
    data = body["data"]
    if not isinstance(data, list):
        raise Refused(
            _unprocessable("list_type", ["body", "data"], "Input should be a valid list", data)
        )
    return list(cast("list[object]", data))
