"""What real ZeroGPU Spaces send, end to end: the `spaces` package's own code raises each error.

Each server (``conftest.py``) is a real Gradio 4.44, 5.50 or 6.31 running ``_app.py``: the FLUX
Space's ``infer`` under the real ``@spaces.GPU`` of one `spaces` version (0.26.2 to 0.51.3),
switched on as on ZeroGPU. The error texts are built by that version's own code: its
``client.schedule`` reading its ``APIClient``'s answer (``QuotaInfos``, status codes, a
``failed`` queue event, the auth and approve-result headers), its f-strings and ``_toast_action``,
its ``error()`` helper or plain ``gr.Error``, its worker wrapper (``GPU task aborted``, the app's
exception class name). The SDK gets them from Gradio over ``/queue/`` and ``/call/``.

What is faked, and why (details in ``_app.py``): only the ZeroGPU device API, the HTTP service a
real Space asks for a GPU, which exists only on Hugging Face's machines; it answers
``/schedule`` as the prompt's first word asks. And the cgroup path `spaces` reports to it, read
from the host. No torch is installed, so `spaces` runs its own no-torch fallback; the worker is
a real forked process. The visitor's ZeroGPU token (``X-IP-Token``, which the Hub's page adds)
is a header the client sends.

The expected class and ``retry_after`` come from what each case asks the device API (its wait)
and from which family of wordings the version has; ``.raw`` and ``.title`` are compared with
what the app recorded it raised, so no text is copied here. On ``/call/`` before Gradio 6.13
every error arrives as null (§3.4), so there the test checks that the SDK says only that.

Not driven: ``Internal Gradio error`` (raised only for a ``gr.Request`` without headers, which
a Gradio server never passes) and the ``x-gradio-user: mcp`` variant of 0.45-0.48's quota text
(Gradio's MCP server sets it; the SDK never does). The unit tests classify both texts.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from flux_sdk import (
    AsyncFluxClient,
    FluxClient,
    GPUUnavailableError,
    JobFailedError,
    ProtocolName,
    QuotaExceededError,
    ResponseError,
)

from .conftest import ZeroGPUServer

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

PROTOCOLS: list[ProtocolName] = ["queue", "call"]
_PAYLOAD = base64.urlsafe_b64encode(json.dumps({"user": "visitor"}).encode()).decode().rstrip("=")
TOKEN = {"X-IP-Token": f"e30.{_PAYLOAD}.signature"}
"""A visitor's ZeroGPU token: a JWT whose payload `spaces` decodes (it checks no signature)."""
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Expected:
    """What the SDK must raise for a case on a server."""

    cls: type[ResponseError]
    retry_after: datetime.timedelta | None = None
    hidden: bool = False
    """The app raised no ``gr.Error`` (old `spaces` re-raise the app's own exception, or a
    RuntimeError): Gradio hides it, so the SDK has no text."""
    message: str | None = None
    """The exact message, when the test knows it (the app's exception class name)."""


@dataclass(frozen=True)
class Case:
    """A prompt for ``_app.py``, whether the visitor has a token, and what it must give."""

    id: str
    prompt: str
    token: bool
    expect: Callable[[ZeroGPUServer], Expected]


def _wait(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=seconds)


def _free_user_wait(server: ZeroGPUServer, seconds: float) -> datetime.timedelta | None:
    """The wait a quota text tells a visitor who is not Pro, if it tells one.

    0.30-0.32 tell only Pro users when to retry; 0.40-0.48 send Gradio 4 a text variant
    without the time ("runnning out of daily ZeroGPU quotas").
    """
    version = server.spaces_version
    if (0, 30) <= version < (0, 40):
        return None
    if (0, 40) <= version < (0, 51) and server.major == 4:
        return None
    return _wait(seconds)


def _quota(seconds: float) -> Callable[[ZeroGPUServer], Expected]:
    return lambda server: Expected(QuotaExceededError, _free_user_wait(server, seconds))


def _no_token_quota(server: ZeroGPUServer) -> Expected:
    # 0.26-0.28 refuse a visitor without a token before asking for a GPU ("Internal infra error").
    if server.spaces_version < (0, 30):
        return Expected(GPUUnavailableError)
    return Expected(QuotaExceededError)


def _pending(server: ZeroGPUServer) -> Expected:
    # Only 0.51 reads X-Approve-Result; older versions see a plain quota answer (wait 433 s).
    if server.spaces_version >= (0, 51):
        return Expected(QuotaExceededError)
    return Expected(QuotaExceededError, _free_user_wait(server, 433))


def _crash(server: ZeroGPUServer) -> Expected:
    # From 0.32 the worker error names the app's exception; before, its exception is re-raised.
    if server.spaces_version >= (0, 32):
        return Expected(JobFailedError, message="RuntimeError")
    return Expected(JobFailedError, hidden=True)


def _expired(server: ZeroGPUServer) -> Expected:
    # The 401 branch is there from 0.32; before, a RuntimeError that Gradio hides.
    if server.spaces_version >= (0, 32):
        return Expected(GPUUnavailableError)
    return Expected(JobFailedError, hidden=True)


CASES = [
    Case("quota-free", "quota left=12 wait=433 auth=regular", True, _quota(433)),
    Case("quota-days", "quota left=12 wait=93784", True, _quota(93784)),
    Case("quota-fraction", "quota left=1 wait=433.25", True, _quota(433.25)),
    Case(
        "quota-pro",
        "quota left=12 wait=433 auth=pro",
        True,
        lambda server: Expected(QuotaExceededError, _wait(433)),
    ),
    # 0.51 says "runs limit"; 0.40-0.48 say "Try again in 0:00:00"; older, the plain quota text.
    Case("runs-limit", "quota left=12 wait=0", True, lambda server: Expected(QuotaExceededError)),
    Case("quota-no-token", "quota left=12 wait=433", False, _no_token_quota),
    Case("pending-credits", "pending", True, _pending),
    Case("illegal-duration", "illegal", True, lambda server: Expected(JobFailedError)),
    Case("queue-timeout", "queue auth=regular", True, lambda server: Expected(GPUUnavailableError)),
    Case("queue-no-token", "queue", False, lambda server: Expected(GPUUnavailableError)),
    Case("no-gpu", "nogpu", True, lambda server: Expected(GPUUnavailableError)),
    Case("expired-token", "expired", True, _expired),
    Case("task-aborted", "abort", True, lambda server: Expected(GPUUnavailableError)),
    Case("app-exception", "crash", True, _crash),
]


def _prompt(case: Case) -> str:
    # A word of its own, so the app's record of this very job is found.
    return f"{case.prompt} job={uuid.uuid4().hex}"


def _check(
    error: ResponseError,
    server: ZeroGPUServer,
    protocol: ProtocolName,
    prompt: str,
    expected: Expected,
) -> None:
    if protocol == "call" and not server.call_has_error_text:
        # Gradio < 6.13 sends null for every error on /call/ (§3.4): no text to classify.
        assert type(error) is JobFailedError
        assert (error.message, error.raw, error.title) == (None, None, None)
        return
    assert type(error) is expected.cls, (error.raw, error.title)
    assert error.retry_after == expected.retry_after, error.raw
    raised = server.raised(prompt)
    if expected.hidden:
        assert raised is None
        assert error.message is None
        return
    assert raised is not None, f"the app raised no gr.Error for {prompt!r}"
    # .raw and .title as sent: Gradio 4 sends str(error) and no title; 5 and 6 the message
    # (an HTMLString's HTML) and the title.
    assert error.raw == (raised.text if server.major == 4 else raised.message)
    assert error.title == (None if server.major == 4 else raised.title)
    # .message is the clean text: no HTML tags, no Markdown link, no repr quotes; its words
    # are the raw text's.
    message = error.message
    assert message is not None
    if expected.message is not None:
        assert message == expected.message
    assert not _TAG.search(message), message
    assert "](" not in message, message
    assert message[0] not in "'\"", message
    assert message == message.strip(), message
    assert set(_WORDS.findall(message)) <= set(_WORDS.findall(error.raw or "")), message


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_each_error_is_typed_end_to_end(
    zerogpu: ZeroGPUServer, protocol: ProtocolName, case: Case
) -> None:
    prompt = _prompt(case)
    headers = TOKEN if case.token else None
    async with AsyncFluxClient(
        zerogpu.url, protocol=protocol, headers=headers, max_retries=0
    ) as client:
        with pytest.raises(ResponseError) as caught:
            await client.generate(prompt, width=256, height=256)
    _check(caught.value, zerogpu, protocol, prompt, case.expect(zerogpu))


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_granted_gpu_runs_the_job(zerogpu: ZeroGPUServer, protocol: ProtocolName) -> None:
    # The same path the worker cases take, succeeding: schedule, fork, allow, run, release.
    async with AsyncFluxClient(zerogpu.url, protocol=protocol, headers=TOKEN) as client:
        image = await client.generate("ok", width=256, height=256, seed=7, randomize_seed=False)
    assert image.seed == 7


def test_the_sync_client_gets_the_same_quota_error(zerogpu: ZeroGPUServer) -> None:
    case = CASES[0]
    prompt = _prompt(case)
    with (
        FluxClient(zerogpu.url, protocol="queue", headers=TOKEN, max_retries=0) as client,
        pytest.raises(ResponseError) as caught,
    ):
        client.generate(prompt, width=256, height=256)
    _check(caught.value, zerogpu, "queue", prompt, case.expect(zerogpu))


async def test_wait_on_quota_does_not_wait_on_a_zero_wait(zerogpu: ZeroGPUServer) -> None:
    # A zero wait (0.51's runs limit, 0.40-0.48's "Try again in 0:00:00") is no usable time:
    # the job is sent once and the error raised, not waited on.
    prompt = f"quota left=12 wait=0 job={uuid.uuid4().hex}"
    async with AsyncFluxClient(
        zerogpu.url, headers=TOKEN, max_retries=0, wait_on_quota=True
    ) as client:
        with pytest.raises(QuotaExceededError) as caught:
            await client.generate(prompt, width=256, height=256)
    assert caught.value.retry_after is None
    assert len(zerogpu.raised_all(prompt)) == 1
