"""The Hugging Face token: sent to the Space's origin only, never shown (README §6, §10.8)."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from flux_sdk import (
    AsyncFluxClient,
    Completed,
    FluxClient,
    GenerateRequest,
    Generation,
    ResponseError,
)
from tests.unit._support import (
    BASE,
    QUEUE_OK,
    event_id_of,
    mount_cancel,
    mount_queue,
    output_of,
    requests,
    sample_request,
    wire,
)

pytestmark = pytest.mark.anyio

SECRET = "hf_secret"
BEARER = f"Bearer {SECRET}"
OTHER_HOST = "http://127.0.0.2:9999/x.webp"


def image() -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "image/webp"}, content=b"RIFFWEBP")


# A cold job answered 500 looks the Space up (/config), which fails too: two Space requests.
WIRE_OF_A_FAILING_SPACE = ["POST /gradio_api/call/infer", "GET /config"]


def failing_space(router: respx.MockRouter) -> respx.Route:
    return router.route().mock(return_value=httpx.Response(500))


def generation(url: str) -> Generation:
    return Generation(url=url, path="/tmp/x.webp", seed=1, request=GenerateRequest(prompt="x"))


@pytest.mark.parametrize("discover", [False, True], ids=["cold", "discover"])
async def test_token_goes_to_every_space_request(router: respx.MockRouter, discover: bool) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    router.get(output_of(line.stream).url).mock(return_value=image())
    async with AsyncFluxClient(BASE, token=SECRET, discover=discover) as client:
        result = await client.generate(sample_request())
        assert await client.download(result) == b"RIFFWEBP"
    # submit, stream, image; and /config first when discovering
    assert len(requests(router)) == 3 + discover
    for sent in requests(router):
        assert sent.headers["x-hf-authorization"] == BEARER
        # the Space proxy strips Authorization; gradio_client moved to X-HF-Authorization
        assert "authorization" not in sent.headers


async def test_token_goes_with_a_cancel(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    cancel = mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE, token=SECRET) as client, client.stream("x") as events:
        async for _ in events:
            break
    # The /config a cancel reads for its fn_index is a Space request like any other.
    assert space.config.calls.last.request.headers["x-hf-authorization"] == BEARER
    assert cancel.calls.last.request.headers["x-hf-authorization"] == BEARER


@pytest.mark.parametrize(
    "url",
    [
        OTHER_HOST,
        # the Gradio 4 replica's own file URL: same host, another port
        output_of("gradio4/20-queue-success-data.txt").url,
        "https://127.0.0.1:7860/gradio_api/file=/tmp/x.webp",
    ],
)
async def test_token_does_not_leave_the_space_origin(router: respx.MockRouter, url: str) -> None:
    elsewhere = router.get(url).mock(return_value=image())
    async with AsyncFluxClient(BASE, token=SECRET) as client:
        assert await client.download(generation(url)) == b"RIFFWEBP"
    assert elsewhere.call_count == 1
    assert "x-hf-authorization" not in elsewhere.calls.last.request.headers
    assert "authorization" not in elsewhere.calls.last.request.headers


async def test_token_does_not_follow_a_redirect_off_the_space(router: respx.MockRouter) -> None:
    on_space = f"{BASE}/gradio_api/file=/tmp/x.webp"
    first = router.get(on_space).mock(
        return_value=httpx.Response(302, headers={"location": OTHER_HOST})
    )
    second = router.get(OTHER_HOST).mock(return_value=image())
    async with AsyncFluxClient(BASE, token=SECRET) as client:
        assert await client.download(generation(on_space)) == b"RIFFWEBP"
    assert first.calls.last.request.headers["x-hf-authorization"] == BEARER
    assert "x-hf-authorization" not in second.calls.last.request.headers


async def test_hf_token_from_the_environment(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    failing_space(router)
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ResponseError):
            await client.generate("x")
    assert wire(router) == WIRE_OF_A_FAILING_SPACE
    for sent in requests(router):
        assert sent.headers["x-hf-authorization"] == "Bearer hf_from_env"


async def test_explicit_token_wins_over_the_environment(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    failing_space(router)
    async with AsyncFluxClient(BASE, token=SECRET) as client:
        with pytest.raises(ResponseError):
            await client.generate("x")
    assert wire(router) == WIRE_OF_A_FAILING_SPACE
    for sent in requests(router):
        assert sent.headers["x-hf-authorization"] == BEARER


async def test_empty_token_means_none_even_with_hf_token(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    failing_space(router)
    async with AsyncFluxClient(BASE, token="") as client:
        with pytest.raises(ResponseError):
            await client.generate("x")
    assert wire(router) == WIRE_OF_A_FAILING_SPACE
    for sent in requests(router):
        assert "x-hf-authorization" not in sent.headers


async def test_no_token_sends_no_auth_header(router: respx.MockRouter) -> None:
    failing_space(router)
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ResponseError):
            await client.generate("x")
    assert wire(router) == WIRE_OF_A_FAILING_SPACE
    for sent in requests(router):
        assert "x-hf-authorization" not in sent.headers
        assert "authorization" not in sent.headers


async def test_token_is_never_shown(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    mount_cancel(router, "/gradio_api")
    router.get(output_of(line.stream).url).mock(
        return_value=httpx.Response(403, json={"detail": "File not allowed"})
    )
    shown: list[str] = []
    async with AsyncFluxClient(BASE, token=SECRET) as client:
        shown += [repr(client), str(client), repr(vars(client))]
        async with client.stream(sample_request()) as events:
            async for event in events:
                shown.append(repr(event))
                if isinstance(event, Completed):
                    with pytest.raises(ResponseError) as caught:
                        await client.download(event.generation)
                    shown += [str(caught.value), repr(caught.value), repr(vars(caught.value))]
    with FluxClient(BASE, token=SECRET) as sync_client:
        shown += [repr(sync_client), str(sync_client)]
    shown.append(caplog.text)
    assert event_id_of(line.post) in caplog.text  # the logs were captured
    for text in shown:
        assert SECRET not in text
    assert BASE in repr(client)
