"""flux-sdk: a typed client for FLUX image generation on Hugging Face Spaces.

Example:
    >>> from flux_sdk import FluxClient
    >>> with FluxClient() as client:  # doctest: +SKIP
    ...     image = client.generate("a red fox in fresh snow", width=768, height=512)
    ...     client.save(image, "fox.webp")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__

# Every public name imported by name for type checkers and the API reference (a static reading);
# at run time __getattr__ below imports each from its home on first use.
if TYPE_CHECKING:
    from ._client import AsyncEventStream, AsyncFluxClient
    from ._config import DEFAULT_SPACE, ProtocolName, Timeout, TimeoutTypes
    from ._errors import (
        ClientClosedError,
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
        MissingExtraError,
        ProtocolError,
        QueueFullError,
        QuotaExceededError,
        RateLimitError,
        ResponseError,
        SpaceUnavailableError,
        TimeoutPhase,
    )
    from ._jobs import AsyncJob, BatchItem, JobState, JobStatus
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
    from ._options import CallOptions
    from ._spaces import FLUX_DEV, FLUX_SCHNELL, SPACES, Limit, SpaceDescriptor
    from ._sync import EventStream, FluxClient
    from ._sync_jobs import Job

__all__ = [
    "DEFAULT_SPACE",
    "FLUX_DEV",
    "FLUX_SCHNELL",
    "SPACES",
    "AsyncEventStream",
    "AsyncFluxClient",
    "AsyncJob",
    "BatchItem",
    "CallOptions",
    "ClientClosedError",
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
    "Job",
    "JobState",
    "JobStatus",
    "Limit",
    "Log",
    "MissingExtraError",
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

# Public names are imported on first use (PEP 562), so that `import flux_sdk` (and the CLI's
# --help) does not pay for httpx, pydantic and anyio until something needs them.
_HOMES = (
    "._errors",
    "._config",
    "._models",
    "._options",
    "._spaces",
    "._client",
    "._sync",
    "._jobs",
    "._sync_jobs",
)


def __getattr__(name: str) -> object:
    if name in __all__:
        for home in _HOMES:
            # The import statement's own machinery, not importlib.import_module: the same
            # module, but `python -X importtime` sees it (and what it imports) where it loads.
            module = __import__(home[1:], globals(), None, ("__name__",), 1)
            if hasattr(module, name):
                value: object = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
