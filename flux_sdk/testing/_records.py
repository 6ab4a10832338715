"""What the fake shows a test: the requests it received and the jobs it accepted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, cast

__all__ = ["FakeJob", "JobProtocol", "JobStatus", "RecordedRequest"]

JobStatus = Literal["waiting", "running", "completed", "failed", "cancelled"]
"""Where a `FakeJob` is: in the queue, on a worker, or finished one way or another."""

JobProtocol = Literal["queue", "call"]
"""How a job was submitted: ``queue/join`` or ``call/infer``."""


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake received.

    Attributes:
        method: ``"GET"``, ``"POST"``...
        url: The full URL.
        path: The URL's path, e.g. ``"/gradio_api/queue/join"``.
        headers: The headers, names in lower case.
        content: The raw body.
    """

    method: str
    url: str
    path: str
    headers: dict[str, str]
    content: bytes

    def json(self) -> object:
        """The body decoded as JSON (None for an empty body).

        Raises:
            ValueError: The body is not JSON.
        """
        return cast(object, json.loads(self.content)) if self.content else None


@dataclass(eq=False)
class FakeJob:
    """A job the fake accepted (read-only for tests; the fake updates ``status``).

    Attributes:
        event_id: The id the Space answered the submission with.
        protocol: ``"queue"`` (followed on ``queue/data``: submitted by ``queue/join``, or by
            ``call/infer`` naming a ``session_hash``) or ``"call"`` (``call/infer`` alone).
        session_hash: The queue session; a ``/call/`` job's is its event_id.
        data: The decoded ``data`` list it was submitted with.
        request: The submission request (for its headers, e.g. authentication).
        status: ``"waiting"``, ``"running"``, ``"completed"``, ``"failed"`` or ``"cancelled"``.
    """

    event_id: str
    protocol: JobProtocol
    session_hash: str
    data: list[object]
    request: RecordedRequest
    status: JobStatus = "waiting"
