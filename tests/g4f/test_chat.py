"""g4f's chat paths (``chat.completions.create``, ``ChatCompletion.create``) and what g4f reads
from a provider class (``get_dict``, ``get_models``, ``get_parameters``)."""

# pyright: reportMissingModuleSource=false

from __future__ import annotations

import re
import socket

import g4f
import g4f.errors
import pytest
from g4f.client import AsyncClient, Client
from g4f.providers.response import ImageResponse, Reasoning
from g4f.providers.retry_provider import IterListProvider

import flux_sdk
from flux_sdk._g4f import BlackForestLabs_Flux1Dev, BlackForestLabs_Flux1Schnell

pytestmark = pytest.mark.anyio

Schnell = type[BlackForestLabs_Flux1Schnell]

MARKDOWN = re.compile(r"\[!\[(?P<alt>[^\]]*)\]\((?P<url>[^)]+)\)\]\((?P=url)\)")


def markdown_image(text: object) -> tuple[str, str]:
    """The alt text and URL of the one Markdown image in ``text``."""
    match = MARKDOWN.fullmatch(str(text).strip())
    assert match is not None, text
    return match["alt"], match["url"]


# -- chat.completions.create ---------------------------------------------------------------------


async def test_async_chat_returns_the_image_as_markdown(schnell: Schnell) -> None:
    completion = await AsyncClient().chat.completions.create(
        [{"role": "user", "content": "a red fox"}], model="flux", provider=schnell
    )
    alt, url = markdown_image(completion.choices[0].message.content)
    assert alt == "a red fox"
    assert url.startswith(schnell.url)
    assert completion.provider == schnell.__name__


def test_sync_chat_sends_the_last_user_message(schnell: Schnell) -> None:
    # As g4f's own image providers: the last user message is the prompt, not the conversation.
    with pytest.raises(g4f.errors.ResponseError) as caught:
        Client().chat.completions.create(
            [
                {"role": "system", "content": "You draw."},
                {"role": "user", "content": "a cat"},
                {"role": "assistant", "content": "[![a cat](x)](x)"},
                {"role": "user", "content": "[error] a red fox"},
            ],
            model="flux",
            provider=schnell,
        )
    assert isinstance(caught.value, flux_sdk.ResponseError)
    assert caught.value.message == "a red fox"


async def test_async_chat_stream_sends_reasoning_then_the_image(schnell: Schnell) -> None:
    stream = AsyncClient().chat.completions.create(
        [{"role": "user", "content": "[slow] a red fox"}],
        model="flux",
        provider=schnell,
        stream=True,
    )
    deltas = [chunk.choices[0].delta async for chunk in stream]
    reasoning = [delta.reasoning for delta in deltas if delta.reasoning is not None]
    images = [delta.content for delta in deltas if isinstance(delta.content, ImageResponse)]
    assert any(text.startswith("In queue") for text in reasoning)
    assert len(images) == 1
    assert deltas.index(next(d for d in deltas if d.content is images[0])) > 0


def test_sync_chat_through_iter_list_provider(schnell: Schnell, unreachable: Schnell) -> None:
    completion = Client().chat.completions.create(
        [{"role": "user", "content": "a red fox"}],
        model="flux",
        provider=IterListProvider([unreachable, schnell], shuffle=False),
    )
    alt, _ = markdown_image(completion.choices[0].message.content)
    assert alt == "a red fox"


async def test_chat_client_base_url_points_at_the_space(schnell: Schnell) -> None:
    # g4f's chat passes the client's base_url to the provider.
    completion = await AsyncClient(base_url=schnell.url).chat.completions.create(
        [{"role": "user", "content": "a red fox"}],
        model="flux",
        provider=BlackForestLabs_Flux1Schnell,
    )
    _, url = markdown_image(completion.choices[0].message.content)
    assert url.startswith(schnell.url)


def test_chat_quota_is_a_g4f_response_error(schnell: Schnell) -> None:
    with pytest.raises(g4f.errors.ResponseError) as caught:
        Client().chat.completions.create(
            [{"role": "user", "content": "[quota] a red fox"}], model="flux", provider=schnell
        )
    assert isinstance(caught.value, flux_sdk.QuotaExceededError)


# -- ChatCompletion.create (g4f's legacy interface) ----------------------------------------------


def test_chat_completion_create(schnell: Schnell) -> None:
    text = g4f.ChatCompletion.create("flux", [{"role": "user", "content": "a red fox"}], schnell)
    alt, url = markdown_image(text)
    assert alt == "a red fox"
    assert url.startswith(schnell.url)


def test_chat_completion_create_stream(schnell: Schnell) -> None:
    items = list(
        g4f.ChatCompletion.create(
            "flux", [{"role": "user", "content": "a red fox"}], schnell, stream=True
        )
    )
    *progress, image = items
    assert all(isinstance(item, Reasoning) for item in progress)
    assert progress
    assert isinstance(image, ImageResponse)


# -- what g4f reads from the class ---------------------------------------------------------------


def test_get_dict() -> None:
    assert BlackForestLabs_Flux1Schnell.get_dict() == {
        "name": "BlackForestLabs_Flux1Schnell",
        "url": "https://black-forest-labs-flux-1-schnell.hf.space",
        "label": "BlackForestLabs Flux-1-Schnell",
    }
    assert BlackForestLabs_Flux1Dev.get_dict()["label"] == "BlackForestLabs Flux-1-Dev"


def test_get_models_and_get_model() -> None:
    schnell = "black-forest-labs-flux-1-schnell"
    dev = "black-forest-labs-flux-1-dev"
    assert BlackForestLabs_Flux1Schnell.get_models() == [schnell, "flux-schnell", "flux"]
    assert BlackForestLabs_Flux1Dev.get_models(api_key="hf_x") == [dev, "flux-dev", "flux"]
    assert BlackForestLabs_Flux1Schnell.get_model("flux") == schnell
    assert BlackForestLabs_Flux1Dev.get_model("flux-dev") == dev
    with pytest.raises(flux_sdk.InvalidRequestError):
        BlackForestLabs_Flux1Schnell.get_model("flux-dev")


def test_get_parameters() -> None:
    assert set(BlackForestLabs_Flux1Schnell.get_parameters()) == {
        "model",
        "messages",
        "prompt",
        "width",
        "height",
        "num_inference_steps",
        "seed",
        "randomize_seed",
        "api_key",
        "stream",
    }
    assert "guidance_scale" in BlackForestLabs_Flux1Dev.get_parameters()


def test_get_parameters_as_json_gives_the_defaults() -> None:
    schnell = BlackForestLabs_Flux1Schnell.get_parameters(as_json=True)
    assert schnell["provider"] == "BlackForestLabs_Flux1Schnell"
    assert schnell["model"] == "black-forest-labs-flux-1-schnell"
    assert (schnell["width"], schnell["height"], schnell["num_inference_steps"]) == (768, 768, 2)
    assert (schnell["seed"], schnell["randomize_seed"]) == (0, True)
    assert schnell["prompt"] is None
    assert schnell["api_key"] is None
    dev = BlackForestLabs_Flux1Dev.get_parameters(as_json=True)
    assert (dev["width"], dev["guidance_scale"], dev["num_inference_steps"]) == (1024, 3.5, 28)
    # The FLUX.1-dev Space's UI values, as the SDK knows them.
    for name, value in flux_sdk.FLUX_DEV.defaults.items():
        assert dev[name] == value, name


def test_the_internet_is_refused(offline_g4f: list[object]) -> None:
    # The guard every test runs under (conftest.offline_g4f) does catch a lookup.
    with pytest.raises(OSError, match="no internet"):
        socket.getaddrinfo("huggingface.co", 443)
    assert offline_g4f == [("huggingface.co", 443)]
    offline_g4f.clear()
