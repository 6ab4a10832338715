"""g4f's image clients (``images.generate``, sync and async) with flux_sdk's providers."""

# pyright: reportMissingModuleSource=false

from __future__ import annotations

import base64
import io
import pickle
from typing import ClassVar

import g4f.errors
import httpx
import pytest
from g4f.client import AsyncClient, Client
from g4f.providers.response import HiddenResponse, ImagePreview, ImageResponse, Reasoning
from g4f.providers.retry_provider import IterListProvider, RetryProvider
from g4f.providers.types import BaseProvider, ProviderType
from PIL import Image

import flux_sdk
import flux_sdk._g4f
import flux_sdk.compat
from flux_sdk._g4f import BlackForestLabs_Flux1Dev, BlackForestLabs_Flux1Schnell
from tests._servers import Server

pytestmark = pytest.mark.anyio

Schnell = type[BlackForestLabs_Flux1Schnell]
Dev = type[BlackForestLabs_Flux1Dev]


def assert_image(data: bytes, prompt_size: int = 48) -> None:
    """A WEBP the replica drew (768 px at scale 16 is 48 px)."""
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (prompt_size, prompt_size)


def download(url: str) -> bytes:
    response = httpx.get(url)
    response.raise_for_status()
    assert response.headers["content-type"] == "image/webp"
    return response.content


# -- the classes ---------------------------------------------------------------------------------


def test_compat_exports_genuine_g4f_providers() -> None:
    from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin

    # Type checkers see compat's standalone classes; at run time, with g4f, these.
    exported: tuple[object, object] = (
        flux_sdk.compat.BlackForestLabs_Flux1Schnell,
        flux_sdk.compat.BlackForestLabs_Flux1Dev,
    )
    assert exported == (BlackForestLabs_Flux1Schnell, BlackForestLabs_Flux1Dev)
    for provider in (BlackForestLabs_Flux1Schnell, BlackForestLabs_Flux1Dev):
        assert issubclass(provider, AsyncGeneratorProvider)
        assert issubclass(provider, ProviderModelMixin)
        assert provider.working is True
        assert provider.supports_stream is True


# -- images.generate: every response_format, async and sync --------------------------------------


async def test_async_images_url_downloads_as_the_image(schnell: Schnell) -> None:
    result = await AsyncClient().images.generate(
        "a red fox", model="flux-schnell", provider=schnell, response_format="url"
    )
    [image] = result.data
    assert image.url is not None
    assert image.url.startswith(schnell.url)
    assert image.revised_prompt == "a red fox"
    assert result.provider == schnell.__name__
    assert_image(download(image.url))


async def test_async_images_b64_json_is_the_image_bytes(schnell: Schnell) -> None:
    result = await AsyncClient().images.generate(
        "a red fox", model="flux-schnell", provider=schnell, response_format="b64_json"
    )
    [image] = result.data
    assert image.b64_json is not None
    assert_image(base64.b64decode(image.b64_json))


async def test_async_images_default_format_gives_the_url(schnell: Schnell) -> None:
    # g4f copies images into ./generated_media, but not from loopback addresses (its
    # is_safe_url): it keeps the Space's URL, which downloads.
    result = await AsyncClient().images.generate("a red fox", model="flux", provider=schnell)
    [image] = result.data
    assert image.url is not None
    assert_image(download(image.url))


def test_sync_images_generate(schnell: Schnell) -> None:
    result = Client().images.generate("a red fox", provider=schnell, response_format="url")
    [image] = result.data
    assert image.url is not None
    assert_image(download(image.url))


async def test_async_client_with_image_provider(schnell: Schnell) -> None:
    result = await AsyncClient(image_provider=schnell).images.generate(
        "a red fox", response_format="url"
    )
    assert result.data[0].url is not None
    assert result.provider == schnell.__name__


def test_sync_client_with_image_provider(schnell: Schnell) -> None:
    result = Client(image_provider=schnell).images.generate("a red fox", response_format="b64_json")
    assert result.data[0].b64_json is not None
    assert_image(base64.b64decode(result.data[0].b64_json))


@pytest.mark.parametrize("kind", ["IterListProvider", "RetryProvider"])
async def test_retry_providers_fail_over_to_a_working_space(
    schnell: Schnell, unreachable: Schnell, kind: str
) -> None:
    providers: list[type[BaseProvider]] = [unreachable, schnell]
    provider: ProviderType = (
        IterListProvider(providers, shuffle=False)
        if kind == "IterListProvider"
        else RetryProvider(providers, shuffle=False)
    )
    result = await AsyncClient().images.generate("a red fox", provider=provider)
    assert result.provider == schnell.__name__
    assert result.data[0].url is not None
    assert_image(download(result.data[0].url))


# -- another Space: url in a subclass (the fixture), or base_url ---------------------------------


async def test_base_url_points_at_another_space(server: Server) -> None:
    result = await AsyncClient().images.generate(
        "a red fox", provider=BlackForestLabs_Flux1Schnell, base_url=server.url
    )
    assert result.data[0].url is not None
    assert result.data[0].url.startswith(server.url)


# -- the prompt the Space receives ---------------------------------------------------------------


async def test_the_space_receives_the_users_prompt(schnell: Schnell) -> None:
    # The replica's [error] tag makes it answer with the text after the tag: what it received.
    # g4f also sends "Generate a image: <prompt>" as a message; appending the prompt to it, as
    # format_image_prompt does, would put the tag mid-text and the job would succeed.
    with pytest.raises(flux_sdk.ResponseError) as caught:
        await AsyncClient().images.generate("[error] a red fox at dusk", provider=schnell)
    assert caught.value.message == "a red fox at dusk"


# -- errors --------------------------------------------------------------------------------------


async def test_quota_is_a_g4f_response_error_and_the_sdks(schnell: Schnell) -> None:
    with pytest.raises(g4f.errors.ResponseError) as caught:
        await AsyncClient().images.generate("[quota] a red fox", provider=schnell)
    error = caught.value
    assert isinstance(error, flux_sdk.QuotaExceededError)
    assert error.retry_after is not None
    assert error.space_url == schnell.url
    assert "quota" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert copy.retry_after == error.retry_after
    assert str(copy) == str(error)


async def test_quota_through_iter_list_provider(schnell: Schnell) -> None:
    with pytest.raises(g4f.errors.ResponseError) as caught:
        await AsyncClient().images.generate(
            "[quota] a red fox", provider=IterListProvider([schnell], shuffle=False)
        )
    assert isinstance(caught.value, flux_sdk.QuotaExceededError)


@pytest.mark.parametrize(
    ("prompt", "error_type"),
    [("[gpu] a fox", flux_sdk.GPUUnavailableError), ("[crash] a fox", flux_sdk.JobFailedError)],
)
async def test_other_space_failures_are_g4f_response_errors(
    schnell: Schnell, prompt: str, error_type: type[flux_sdk.ResponseError]
) -> None:
    with pytest.raises(error_type) as caught:
        await AsyncClient().images.generate(prompt, provider=schnell)
    assert isinstance(caught.value, g4f.errors.ResponseError)


async def test_a_bad_size_is_refused_before_anything_is_sent(unreachable: Schnell) -> None:
    # Pointed where nothing listens: any I/O would be a connection error instead.
    with pytest.raises(flux_sdk.InvalidRequestError) as caught:
        await AsyncClient().images.generate("a red fox", provider=unreachable, width=1000)
    assert caught.value.field == "width"
    assert isinstance(caught.value, ValueError)


# -- progress in g4f's terms ---------------------------------------------------------------------


async def test_stream_yields_reasoning_before_the_image(schnell: Schnell) -> None:
    items = [
        item
        async for item in schnell.create_async_generator(
            "flux", [{"role": "user", "content": "[info] a red fox"}], stream=True
        )
    ]
    *progress, image = items
    assert isinstance(image, ImageResponse)
    assert not isinstance(image, HiddenResponse)
    assert all(isinstance(item, Reasoning) for item in progress)
    statuses = [item.status or "" for item in progress if isinstance(item, Reasoning)]
    assert any(status.startswith("In queue") for status in statuses)
    # "ZeroGPU queue: Waiting for a GPU ...": the title, where Gradio sends one (5 and later).
    assert any(status.endswith("Waiting for a GPU to become available") for status in statuses)
    assert statuses[-1] == ""


async def test_stream_yields_steps(schnell: Schnell) -> None:
    # [slow]: the replica sleeps per step, so Gradio sends each step.
    items = [
        item
        async for item in schnell.create_async_generator(
            "flux", [], prompt="[slow] a red fox", num_inference_steps=2, stream=True
        )
    ]
    statuses = [item.status for item in items if isinstance(item, Reasoning)]
    assert "1/2 steps" in statuses


class _Recording(flux_sdk.AsyncFluxClient):
    closed: ClassVar[list[bool]] = []

    async def close(self) -> None:
        await super().close()
        _Recording.closed.append(True)


async def test_a_caller_that_stops_early_closes_the_job(
    schnell: Schnell, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Closing the provider's generator closes the SDK's client inside it at once, in this task
    # (leaving the stream cancels the job on the Space), not later from the event loop's
    # finalizer, in another task.
    _Recording.closed.clear()
    monkeypatch.setattr(flux_sdk._g4f, "AsyncFluxClient", _Recording)
    items = schnell.create_async_generator(
        "flux", [], prompt="[slow] a red fox", num_inference_steps=8, stream=True
    )
    first = await anext(items)
    assert isinstance(first, Reasoning)
    assert _Recording.closed == []
    await items.aclose()
    assert _Recording.closed == [True]


async def test_without_stream_only_the_image(schnell: Schnell) -> None:
    items = [
        item
        async for item in schnell.create_async_generator(
            "flux", [{"role": "user", "content": "a red fox"}]
        )
    ]
    [image] = items
    assert isinstance(image, ImageResponse)
    assert image.alt == "a red fox"
    assert isinstance(image.urls, str)
    assert str(image) == f"[![a red fox]({image.urls})]({image.urls})"


# -- FLUX.1-dev ----------------------------------------------------------------------------------


async def test_dev_streams_previews_then_the_image(flux_dev: Dev) -> None:
    items = [
        item
        async for item in flux_dev.create_async_generator(
            "flux-dev",
            [{"role": "user", "content": "a dev fox"}],
            num_inference_steps=3,
            guidance_scale=5.0,
            stream=True,
        )
    ]
    previews = [item for item in items if isinstance(item, ImagePreview)]
    assert previews
    assert all(isinstance(item, HiddenResponse) for item in previews)
    assert isinstance(previews[0].urls, str)
    assert download(previews[0].urls)[8:12] == b"WEBP"
    final = items[-1]
    assert isinstance(final, ImageResponse)
    assert not isinstance(final, ImagePreview)


async def test_dev_through_the_image_client(flux_dev: Dev) -> None:
    result = await AsyncClient().images.generate(
        "a dev fox",
        model="flux-dev",
        provider=flux_dev,
        response_format="url",
        num_inference_steps=2,
        guidance_scale=5.0,
    )
    [image] = result.data  # the previews are hidden: only the image
    assert image.url is not None
    assert download(image.url)[8:12] == b"WEBP"


async def test_dev_refuses_a_bad_guidance_before_anything_is_sent(unreachable: Schnell) -> None:
    class Nowhere(BlackForestLabs_Flux1Dev):
        url = unreachable.url

    with pytest.raises(flux_sdk.InvalidRequestError) as caught:
        await AsyncClient().images.generate("a fox", provider=Nowhere, guidance_scale=20.0)
    assert caught.value.field == "guidance_scale"
