"""The Gradio wire protocol as pure functions: no I/O, no event loop (sans-IO)."""

from ._classify import classify, classify_http, normalise, parse_retry_after
from ._coding import BodyDecoder, accept_encoding
from ._decode import (
    END,
    GeneratorOutputs,
    JobContext,
    Step,
    StreamEnd,
    decode_call,
    decode_queue,
)
from ._discovery import SpaceConfig, parse_config
from ._files import is_image_type
from ._framing import ResponseFraming
from ._routes import (
    GUESSED_PREFIX,
    AcceptedJob,
    Submission,
    call_body,
    call_body_in_session,
    cancel_body,
    config_url,
    submission,
)
from ._sse import SSEReader

__all__ = [
    "GUESSED_PREFIX",
    "AcceptedJob",
    "Submission",
    "config_url",
    "submission",
    "END",
    "GeneratorOutputs",
    "BodyDecoder",
    "JobContext",
    "ResponseFraming",
    "SSEReader",
    "SpaceConfig",
    "Step",
    "StreamEnd",
    "accept_encoding",
    "call_body",
    "call_body_in_session",
    "cancel_body",
    "classify",
    "classify_http",
    "decode_call",
    "decode_queue",
    "is_image_type",
    "normalise",
    "parse_config",
    "parse_retry_after",
]
