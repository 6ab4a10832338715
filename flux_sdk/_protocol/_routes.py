"""Gradio's routes for one job, its session rules, and what the Space's answers mean (pure).

Where a job is submitted, followed and cancelled on each protocol (§3.1, §4.1, §4.4), which
session a job belongs to, and how the submission's answer names the job. The transport only
sends what these say.

Every job is submitted by the endpoint's name, ``POST {prefix}/call/{api_name}``, never by a
``fn_index``: Gradio looks the function up by that name (``routes.py``, ``simple_predict_post``
→ ``get_fn``) and queues the job exactly as ``queue/join`` does, so a submission can never run
another function, whatever the Space's ``/config`` says today. On the queue protocol the body
also names our ``session_hash``, and the job's messages (rank, progress, notices) arrive on
``{prefix}/queue/data`` as after a join (Gradio 4.44, 5.50, 6.31). Only ``/cancel`` needs the
``fn_index`` (the key of the running task), which is why it alone waits for ``GET /config``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._errors import ProtocolError
from .._models import GenerateRequest
from ._decode import GeneratorOutputs, JobContext, Step, decode_call, decode_queue
from ._json import as_object

GUESSED_PREFIX = "/gradio_api"
"""The API prefix tried before a Space has said its own: Gradio 5's and 6's (§1, §7.1).

A Space on Gradio 4 answers it with 404 (no route is shared), after which ``GET /config``
gives the real prefix; a guess can cost a round trip, never a wrong function.
"""


def config_url(space_url: str) -> str:
    """``GET /config``: at the Space's root on every Gradio line (§1)."""
    return f"{space_url}/config"


def call_body(data: list[object]) -> dict[str, object]:
    """Body of ``POST {prefix}/call/{api_name}``: every input, all sent (null is no default)."""
    return {"data": data}


def call_body_in_session(data: list[object], session_hash: str) -> dict[str, object]:
    """Body of ``POST {prefix}/call/{api_name}`` for a job followed on ``queue/data``.

    Gradio's ``SimplePredictBody`` takes an optional ``session_hash`` (4.44, 5.50, 6.31) and
    queues the job in that session, as ``queue/join`` would with the same hash.
    """
    return {"data": data, "session_hash": session_hash}


def cancel_body(fn_index: int, session_hash: str, event_id: str) -> dict[str, object]:
    """Body of ``POST {prefix}/cancel``; a ``/call/`` job's session_hash is its event_id."""
    return {"fn_index": fn_index, "session_hash": session_hash, "event_id": event_id}


@dataclass(frozen=True)
class Submission:
    """One job, ready to submit: where to, what, and how to follow it once accepted.

    Attributes:
        url: The route to ``POST`` to, ``{prefix}/call/{api_name}``.
        body: The JSON body.
        queue: Whether the job runs on the queue protocol.
    """

    url: str
    body: dict[str, object]
    queue: bool
    space_url: str
    api_prefix: str
    request: GenerateRequest
    session_hash: str | None
    """Ours on the queue protocol; on ``/call/`` the Space's event_id is the session (§4.4)."""

    def accepted(self, answer: object) -> AcceptedJob:
        """The job the Space's answer to the submission names.

        Raises:
            ProtocolError: The answer has no ``event_id``.
        """
        payload = as_object(answer)
        event_id = payload.get("event_id") if payload is not None else None
        if not isinstance(event_id, str) or not event_id:
            raise ProtocolError(f"the Space answered without an event_id: {answer!r:.200}")
        session_hash = self.session_hash or event_id
        api = f"{self.space_url}{self.api_prefix}"
        return AcceptedJob(
            stream_url=(
                f"{api}/queue/data?session_hash={session_hash}"
                if self.queue
                else f"{self.url}/{event_id}"
            ),
            cancel_url=f"{api}/cancel",
            session_hash=session_hash,
            queue=self.queue,
            context=JobContext(
                base_url=self.space_url,
                api_prefix=self.api_prefix,
                request=self.request,
                event_id=event_id,
            ),
        )


@dataclass(frozen=True)
class AcceptedJob:
    """A job the Space has accepted: where its events are, and how to cancel it."""

    stream_url: str
    cancel_url: str
    session_hash: str
    queue: bool
    context: JobContext
    outputs: GeneratorOutputs = field(default_factory=GeneratorOutputs, compare=False)
    """A generator job's last yield: on the queue protocol, later yields are diffs of it."""

    @property
    def event_id(self) -> str:
        """The Space's id for the job."""
        return self.context.event_id

    def cancel_body(self, fn_index: int) -> dict[str, object]:
        """The body of the job's ``POST {prefix}/cancel``, given the endpoint's ``fn_index``."""
        return cancel_body(fn_index, self.session_hash, self.event_id)

    def decode(self, event: str, data: str) -> Step:
        """One event of the job's stream, in the SDK's terms (see `decode_queue`)."""
        if self.queue:
            return decode_queue(data, self.context, self.outputs)
        return decode_call(event, data, self.context)


def submission(
    space_url: str,
    api_prefix: str,
    api_name: str,
    request: GenerateRequest,
    data: list[object],
    *,
    session_hash: str | None,
) -> Submission:
    """How to submit ``data`` to a Space: by the endpoint's name, on either protocol.

    On the queue protocol with ``session_hash``; on the ``/call/`` protocol when it is None.

    Example:
        >>> request = GenerateRequest(prompt="a fox")
        >>> submission("http://s", "/gradio_api", "infer", request, [], session_hash=None).url
        'http://s/gradio_api/call/infer'
    """
    url = f"{space_url}{api_prefix}/call/{api_name}"
    body = call_body(data) if session_hash is None else call_body_in_session(data, session_hash)
    return Submission(
        url=url,
        body=body,
        queue=session_hash is not None,
        space_url=space_url,
        api_prefix=api_prefix,
        request=request,
        session_hash=session_hash,
    )


__all__ = [
    "GUESSED_PREFIX",
    "AcceptedJob",
    "Submission",
    "call_body",
    "call_body_in_session",
    "cancel_body",
    "config_url",
    "submission",
]
