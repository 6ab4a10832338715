"""Test your code against a fake FLUX Space: no network, no Gradio, no waiting.

`FakeSpace` is an httpx transport that answers exactly like a Gradio 4.44, 5.x or 6.x server
running the FLUX.1-schnell Space's app (or FLUX.1-dev's, with ``space="flux-dev"``). Give it
to either client as ``http_transport`` and script what each job does: queue positions,
progress, toasts, results, and every failure the SDK knows how to raise.

Example:
    >>> from flux_sdk import FluxClient, QuotaExceededError
    >>> from flux_sdk.testing import FakeSpace, Fail, Result
    >>> space = FakeSpace()
    >>> space.respond(Result(seed=7), Fail.quota(retry_after="0:06:53"))
    >>> with FluxClient(space.url, http_transport=space) as client:
    ...     print(client.generate("a red fox").seed)
    ...     try:
    ...         client.generate("another fox")
    ...     except QuotaExceededError as error:
    ...         print(error.retry_after)
    7
    0:06:53

pytest users get a ``fake_space`` fixture from ``flux_sdk.testing.pytest_plugin``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._records import FakeJob, JobProtocol, JobStatus, RecordedRequest
    from ._scenario import Fail, FailKind, Notice, NoticeLevel, Outcome, Result
    from ._space import FakePool, FakeSpace

# Where each public name lives. They are imported on first use (PEP 562): the pytest plugin
# imports this package, and a test session that never asks for the fake should not pay for it.
_HOMES = {
    "FakeJob": "._records",
    "FakePool": "._space",
    "FakeSpace": "._space",
    "JobProtocol": "._records",
    "JobStatus": "._records",
    "RecordedRequest": "._records",
    "Fail": "._scenario",
    "FailKind": "._scenario",
    "Notice": "._scenario",
    "NoticeLevel": "._scenario",
    "Outcome": "._scenario",
    "Result": "._scenario",
}

__all__ = [
    "Fail",
    "FailKind",
    "FakeJob",
    "FakePool",
    "FakeSpace",
    "JobProtocol",
    "JobStatus",
    "Notice",
    "NoticeLevel",
    "Outcome",
    "RecordedRequest",
    "Result",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
