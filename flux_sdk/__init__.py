"""flux-sdk: a typed client for FLUX image generation on Hugging Face Spaces.

Example:
    >>> from flux_sdk import FluxClient
    >>> with FluxClient() as client:  # doctest: +SKIP
    ...     image = client.generate("a red fox in fresh snow", width=768, height=512)
    ...     client.save(image, "fox.webp")
"""

from ._client import AsyncEventStream, AsyncFluxClient
from ._config import DEFAULT_SPACE, ProtocolName, Timeout, TimeoutTypes
from ._errors import (
    DownloadError,
    EndpointNotFoundError,
    FluxConnectionError,
    FluxError,
    FluxTimeoutError,
    GPUUnavailableError,
    InputRejectedError,
    InvalidRequestError,
    JobCancelledError,
    JobFailedError,
    ProtocolError,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    SpaceUnavailableError,
    TimeoutPhase,
)
from ._models import (
    Completed,
    Event,
    GenerateParams,
    GenerateRequest,
    Generation,
    Log,
    Preview,
    Progress,
    Queued,
    Started,
)
from ._spaces import FLUX_DEV, FLUX_SCHNELL, SPACES, Limit, SpaceDescriptor
from ._sync import EventStream, FluxClient
from ._version import __version__

__all__ = [
    "DEFAULT_SPACE",
    "FLUX_DEV",
    "FLUX_SCHNELL",
    "SPACES",
    "AsyncEventStream",
    "AsyncFluxClient",
    "Completed",
    "DownloadError",
    "EndpointNotFoundError",
    "Event",
    "EventStream",
    "FluxClient",
    "FluxConnectionError",
    "FluxError",
    "FluxTimeoutError",
    "GPUUnavailableError",
    "GenerateParams",
    "GenerateRequest",
    "Generation",
    "InputRejectedError",
    "InvalidRequestError",
    "JobCancelledError",
    "JobFailedError",
    "Limit",
    "Log",
    "Preview",
    "Progress",
    "ProtocolError",
    "ProtocolName",
    "Queued",
    "QueueFullError",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseError",
    "SpaceDescriptor",
    "SpaceUnavailableError",
    "Started",
    "Timeout",
    "TimeoutPhase",
    "TimeoutTypes",
    "__version__",
]
