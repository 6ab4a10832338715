"""Gradio's routes for one job, its session rules, and what the Space's answers mean (pure).

Where a job is submitted, followed and cancelled on each protocol (§3.1, §4.1, §4.4), which
session a job belongs to, and how the submission's answer names the job. The transport only
sends what these say.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._errors import ProtocolError
from .._models import GenerateRequest
from ._decode import GeneratorOutputs, JobContext, Step, decode_call, decode_queue
from ._discovery import SpaceConfig
from ._json import as_object


def config_url(space_url: str) -> str:
    """``GET /config``: at the Space's root on every Gradio line (§1)."""
    return f"{space_url}/config"


def call_body(data: list[object]) -> dict[str, object]:
    """Body of ``POST {prefix}/call/{api_name}``: every input, all sent (null is no default)."""
    return {"data": data}


def join_body(data: list[object], fn_index: int, session_hash: str) -> dict[str, object]:
    """Body of ``POST {prefix}/queue/join``, as the official client sends it."""
    return {"data": data, "fn_index": fn_index, "session_hash": session_hash}


def cancel_body(fn_index: int, session_hash: str, event_id: str) -> dict[str, object]:
    """Body of ``POST {prefix}/cancel``; a ``/call/`` job's session_hash is its event_id."""
    return {"fn_index": fn_index, "session_hash": session_hash, "event_id": event_id}


@dataclass(frozen=True)
class Submission:
    """One job, ready to submit: where to, what, and how to follow it once accepted.

    Attributes:
        url: The route to ``POST`` to (``queue/join`` or ``call/{api_name}``).
        body: The JSON body.
        queue: Whether the job runs on the queue protocol.
    """

    url: str
    body: dict[str, object]
    queue: bool
    space_url: str
    config: SpaceConfig
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
        api = f"{self.space_url}{self.config.api_prefix}"
        return AcceptedJob(
            stream_url=(
                f"{api}/queue/data?session_hash={session_hash}"
                if self.queue
                else f"{self.url}/{event_id}"
            ),
            cancel_url=f"{api}/cancel",
            cancel_body=cancel_body(self.config.fn_index, session_hash, event_id),
            queue=self.queue,
            context=JobContext(
                base_url=self.space_url,
                api_prefix=self.config.api_prefix,
                request=self.request,
                event_id=event_id,
            ),
        )


@dataclass(frozen=True)
class AcceptedJob:
    """A job the Space has accepted: where its events are, and how to cancel it."""

    stream_url: str
    cancel_url: str
    cancel_body: dict[str, object]
    queue: bool
    context: JobContext
    outputs: GeneratorOutputs = field(default_factory=GeneratorOutputs, compare=False)
    """A generator job's last yield: on the queue protocol, later yields are diffs of it."""

    @property
    def event_id(self) -> str:
        """The Space's id for the job."""
        return self.context.event_id

    def decode(self, event: str, data: str) -> Step:
        """One event of the job's stream, in the SDK's terms (see `decode_queue`)."""
        if self.queue:
            return decode_queue(data, self.context, self.outputs)
        return decode_call(event, data, self.context)


def submission(
    space_url: str,
    config: SpaceConfig,
    api_name: str,
    request: GenerateRequest,
    data: list[object],
    *,
    session_hash: str | None,
) -> Submission:
    """How to submit ``data`` to a Space.

    On the queue protocol with ``session_hash``; on the ``/call/`` protocol when it is None.

    Example:
        >>> from flux_sdk._protocol import SpaceConfig
        >>> config = SpaceConfig(api_prefix="/gradio_api", fn_index=2, version="5.50.0")
        >>> request = GenerateRequest(prompt="a fox")
        >>> submission("http://s", config, "infer", request, [], session_hash=None).url
        'http://s/gradio_api/call/infer'
    """
    api = f"{space_url}{config.api_prefix}"
    queue = session_hash is not None
    if session_hash is not None:
        url, body = f"{api}/queue/join", join_body(data, config.fn_index, session_hash)
    else:
        url, body = f"{api}/call/{api_name}", call_body(data)
    return Submission(
        url=url,
        body=body,
        queue=queue,
        space_url=space_url,
        config=config,
        request=request,
        session_hash=session_hash,
    )


__all__ = [
    "AcceptedJob",
    "Submission",
    "call_body",
    "cancel_body",
    "config_url",
    "join_body",
    "submission",
]
