"""gpt4free's FLUX.1-schnell and FLUX.1-dev providers, backed by flux-sdk.

gpt4free removed its FLUX.1-schnell provider in 2025; these classes bring it back. With gpt4free
installed (the ``[g4f]`` extra) they are genuine g4f providers for its own client:

```python
from g4f.client import Client

from flux_sdk.compat import BlackForestLabs_Flux1Schnell

image = Client().images.generate(
    "a red fox in fresh snow", model="flux", provider=BlackForestLabs_Flux1Schnell
)
```

Without it they work on their own, with the provider's interface: `create_async_generator`
yields one `ImageResponse`. Either way the Space's failures are typed `ResponseError`
subclasses, sizes are checked before anything is sent, the route is discovered and an
``api_key`` (or ``HF_TOKEN``) is sent as a Hugging Face token. Type checkers see the
standalone classes. The documentation's "Migrating from gpt4free" page
(docs/migrating-from-gpt4free.md) says what differs from the original provider.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import TYPE_CHECKING, TypeAlias, cast

import httpx

from ._client import AsyncFluxClient
from ._errors import InvalidRequestError, ResponseError
from ._models import GenerateParams
from ._protocol import classify_http
from ._providers import Flux1Dev, Flux1Schnell, FluxProvider

__all__ = [
    "BlackForestLabs_Flux1Dev",
    "BlackForestLabs_Flux1Schnell",
    "ImageResponse",
    "InvalidRequestError",
    "Messages",
    "ResponseError",
    "format_image_prompt",
    "raise_for_status",
]

Messages: TypeAlias = Sequence[str | Mapping[str, object]]
"""A conversation: plain strings, or ``{"role": ..., "content": ...}`` mappings.

A mapping's ``content`` may also be a list of parts as in gpt4free (strings, or
``{"type": "text", "text": ...}``); only the text parts count.
"""


@dataclass(frozen=True)
class ImageResponse:
    """Generated images, as gpt4free's ``ImageResponse`` carries them.

    ``str()`` gives Markdown: one ``[![alt](url)](url)`` line per image, a linked thumbnail as
    gpt4free renders it. In the ``alt`` text, line breaks become spaces and square brackets are
    escaped; in the URL, spaces and parentheses are percent-encoded.

    Attributes:
        images: The images' URLs.
        alt: The alternative text: the prompt the images were made from.
        options: Extra data, empty unless the caller sets it.

    Example:
        >>> print(ImageResponse(images=["https://x/a.webp"], alt="a fox"))
        [![a fox](https://x/a.webp)](https://x/a.webp)

    """

    images: list[str]
    alt: str
    options: dict[str, object] = field(default_factory=dict[str, object])

    def __str__(self) -> str:
        alt = _markdown_text(self.alt)
        return "\n".join(f"[![{alt}]({url})]({url})" for url in map(_markdown_url, self.images))


def _markdown_text(text: str) -> str:
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _markdown_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def format_image_prompt(messages: Messages, prompt: str | None = None) -> str:
    """Make an image prompt: the messages' texts, then ``prompt``, joined by single spaces.

    Each text is stripped and empty ones are skipped, so the result has no double spaces at the
    joins. A mapping without ``content`` counts as empty.

    Note:
        gpt4free's own helper returns ``prompt`` alone when it is given; this one appends it to
        the conversation.

    Args:
        messages: The conversation (see `Messages`).
        prompt: More text for the end, or None.

    Returns:
        The joined text (empty when there is none).

    Example:
        >>> format_image_prompt([{"role": "user", "content": "a fox"}], "in snow")
        'a fox in snow'
        >>> format_image_prompt(["a", "b"])
        'a b'

    """
    items: Sequence[str | Mapping[str, object]] = (
        [messages] if isinstance(messages, str) else messages
    )
    texts = [_message_text(message) for message in items]
    if prompt is not None:
        texts.append(prompt)
    return " ".join(text for text in (text.strip() for text in texts) if text)


def _message_text(message: str | Mapping[str, object]) -> str:
    if isinstance(message, str):
        return message
    return _content_text(message.get("content"))


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        text = cast("Mapping[object, object]", content).get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, (list, tuple)):
        parts = [_content_text(part) for part in cast("Sequence[object]", content)]
        return " ".join(part.strip() for part in parts if part.strip())
    return ""


def raise_for_status(response: httpx.Response) -> None:
    """Raise the right `ResponseError` subclass for a response that is not 2xx.

    The message comes from a JSON body's ``detail``, ``error`` or ``message``, an HTML page's
    ``<title>``, or the plain text; ``Retry-After`` is read into ``retry_after``. 404 raises
    `flux_sdk.EndpointNotFoundError`, 422 `flux_sdk.InputRejectedError`, 429
    `flux_sdk.RateLimitError`, 503 `flux_sdk.QueueFullError`, and any other status
    `ResponseError` itself.

    Unlike gpt4free's helper this is synchronous and takes an httpx response whose body has been
    read (a streamed one needs ``await response.aread()`` first).

    Args:
        response: The response to check.

    Raises:
        ResponseError: The status is not 2xx.
        httpx.ResponseNotRead: The status is not 2xx and the body has not been read.

    """
    if response.is_success:
        return
    raise classify_http(
        response.status_code,
        response.content,
        content_type=response.headers.get("content-type", ""),
        retry_after=response.headers.get("retry-after"),
    )


class BlackForestLabs_Flux1Schnell(Flux1Schnell):  # the gpt4free provider's name, for drop-in use
    """The FLUX.1-schnell Space, with gpt4free's provider interface.

    With gpt4free installed, `flux_sdk.compat` exports a g4f provider of this name instead (see
    the module's description); this is the class without it.

    Attributes:
        label: The provider's display name.
        url: The Space; subclasses may override it to target another Space with the same app.
        api_endpoint: The original provider's hard-coded route, kept for reference only: it
            answers 404 on Gradio 5 and later, and requests go where ``/config`` says instead.
        working: Always True.
        default_model: The only model.
        default_image_model: The same.
        model_aliases: Other names `get_model` accepts for it.
        image_models: The model and its aliases.
        models: The same list.

    """

    # Both providers spell out their parameters, defaults and docstrings, as _g4f's twins do:
    # they are the original providers' keywords, which type checkers and the API reference
    # read from the signature; only the rules behind them are shared (FluxProvider, _generate).
    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        prompt: str | None = None,
        width: int = 768,
        height: int = 768,
        num_inference_steps: int = 2,
        seed: int = 0,
        randomize_seed: bool = True,
        **kwargs: object,
    ) -> AsyncIterator[ImageResponse]:
        """Generate one image and yield it as an `ImageResponse`.

        ``width`` and ``height`` are first rounded as the original provider did (down to a
        multiple of 8, at least 32), then checked against the Space's limits: a multiple of 32
        from 256 to 2048. So 770 becomes 768 and passes, while 1000 (a multiple of 8 but not of
        32) and 100 (below 256) raise `InvalidRequestError` before any request is made.
        ``num_inference_steps`` must be 1 to 50 and ``seed`` 0 to 2147483647.

        Args:
            model: Ignored, as by the original provider (there is one model); use `get_model`
                to check a name.
            messages: The conversation the prompt is made from (see `format_image_prompt`).
            proxy: A proxy URL for every request, or None for the usual environment variables.
            prompt: Text appended to the messages' text.
            width: The image width in pixels.
            height: The image height in pixels.
            num_inference_steps: Denoising steps.
            seed: The seed, used when ``randomize_seed`` is false.
            randomize_seed: Let the Space pick a random seed.
            **kwargs: ``base_url`` (a Space URL, instead of `url`), ``api_key`` or ``token`` (a
                Hugging Face token; default ``HF_TOKEN``). Anything else is ignored, as by the
                original.

        Yields:
            One `ImageResponse`: the image's URL, and the prompt as ``alt``.

        Raises:
            InvalidRequestError: The prompt is empty or a parameter is out of range; nothing
                was sent.
            ResponseError: The Space refused or failed the job (a subclass says why).
            flux_sdk.FluxConnectionError: The Space could not be reached.
            flux_sdk.FluxTimeoutError: A time limit ran out.
            flux_sdk.ProtocolError: The Space's answer did not fit the Gradio protocol.

        """
        params = GenerateParams(
            seed=seed,
            randomize_seed=randomize_seed,
            width=width,
            height=height,
            num_inference_steps=num_inference_steps,
        )
        return _generate(cls, messages, prompt, params, proxy, kwargs)


class BlackForestLabs_Flux1Dev(Flux1Dev):  # gpt4free's provider name, for drop-in use
    """The FLUX.1-dev Space, with gpt4free's provider interface.

    With gpt4free installed, `flux_sdk.compat` exports a g4f provider of this name instead,
    which also streams the Space's previews; this is the class without it.

    Attributes:
        label: The provider's display name.
        url: The Space; subclasses may override it to target another Space with the same app.
        working: Always True.
        default_model: The only model.
        default_image_model: The same.
        model_aliases: Other names `get_model` accepts for it.
        image_models: The model and its aliases.
        models: The same list.

    """

    # Spelled out like FLUX.1-schnell's above (the original's keywords, read from the signature).
    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        prompt: str | None = None,
        width: int = 1024,
        height: int = 1024,
        guidance_scale: float = 3.5,
        num_inference_steps: int = 28,
        seed: int = 0,
        randomize_seed: bool = True,
        **kwargs: object,
    ) -> AsyncIterator[ImageResponse]:
        """Generate one image and yield it as an `ImageResponse`.

        Sizes must be a multiple of 32 from 256 to 2048, ``guidance_scale`` 1 to 15,
        ``num_inference_steps`` 1 to 50 and ``seed`` 0 to 2147483647; anything else raises
        `InvalidRequestError` before any request is made.

        Args:
            model: Ignored (there is one model); use `get_model` to check a name.
            messages: The conversation the prompt is made from (see `format_image_prompt`).
            proxy: A proxy URL for every request, or None for the usual environment variables.
            prompt: Text appended to the messages' text.
            width: The image width in pixels.
            height: The image height in pixels.
            guidance_scale: How closely the image follows the prompt.
            num_inference_steps: Denoising steps.
            seed: The seed, used when ``randomize_seed`` is false.
            randomize_seed: Let the Space pick a random seed.
            **kwargs: ``base_url`` (a Space URL, instead of `url`), ``api_key`` or ``token`` (a
                Hugging Face token; default ``HF_TOKEN``). Anything else is ignored.

        Yields:
            One `ImageResponse`: the image's URL, and the prompt as ``alt``.

        Raises:
            InvalidRequestError: The prompt is empty or a parameter is out of range; nothing
                was sent.
            ResponseError: The Space refused or failed the job (a subclass says why).
            flux_sdk.FluxConnectionError: The Space could not be reached.
            flux_sdk.FluxTimeoutError: A time limit ran out.
            flux_sdk.ProtocolError: The Space's answer did not fit the Gradio protocol.

        """
        params = GenerateParams(
            seed=seed,
            randomize_seed=randomize_seed,
            width=width,
            height=height,
            guidance_scale=guidance_scale,
            num_inference_steps=num_inference_steps,
        )
        return _generate(cls, messages, prompt, params, proxy, kwargs)


async def _generate(
    space: type[FluxProvider],
    messages: Messages,
    prompt: str | None,
    params: GenerateParams,
    proxy: str | None,
    kwargs: Mapping[str, object],
) -> AsyncGenerator[ImageResponse, None]:
    # What create_async_generator returns: nothing runs, nor is checked, before the first
    # iteration.
    request = space.request(format_image_prompt(messages, prompt), params)
    base_url, token = space.client_options(kwargs)
    async with AsyncFluxClient(
        base_url, space=space.descriptor, token=token, protocol="auto", proxy=proxy
    ) as client:
        generation = await client.generate(request)
    yield ImageResponse(images=[generation.url], alt=request.prompt)


if not TYPE_CHECKING and find_spec("g4f") is not None:
    # gpt4free is installed: the same names are genuine g4f providers (flux_sdk._g4f). Type
    # checkers and the API reference (a static reading) see the standalone classes above.
    from . import _g4f

    globals().update({name: getattr(_g4f, name) for name in _g4f.__all__})
