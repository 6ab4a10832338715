"""A drop-in for gpt4free's ``BlackForestLabs_Flux1Schnell`` provider, backed by flux-sdk.

Migrating is an import change:

```python
# before
from g4f.Provider.hf_space.BlackForestLabs_Flux1Schnell import BlackForestLabs_Flux1Schnell
# after
from flux_sdk.compat import BlackForestLabs_Flux1Schnell

async for image in BlackForestLabs_Flux1Schnell.create_async_generator(
    "flux", [{"role": "user", "content": "a red fox in fresh snow"}]
):
    print(image)  # [![a red fox in fresh snow](https://...webp)](https://...webp)
```

The class keeps the provider's attributes (``label``, ``url``, ``api_endpoint``, ``working``,
``default_model``, ``model_aliases``, ``image_models``, ``models``), its `get_model`, and
`create_async_generator` with the same parameters and defaults (768x768, 2 steps, seed 0,
randomized). It still yields one `ImageResponse` with the image's URL and the prompt as ``alt``.

What differs:

- **Errors are typed.** Everything the Space refuses or fails raises a subclass of
  `ResponseError` (`QuotaExceededError`, `QueueFullError`, `JobFailedError`, ...), so
  ``except ResponseError`` keeps working; catch ``flux_sdk.ResponseError`` (re-exported here),
  not ``g4f.errors.ResponseError``. Not reaching the Space raises `flux_sdk.FluxConnectionError`,
  running out of time `flux_sdk.FluxTimeoutError`, and a malformed answer
  `flux_sdk.ProtocolError` (the original let aiohttp's and json's exceptions through there).
  All of them are `flux_sdk.FluxError`.
- **Sizes are validated before anything is sent.** The original's rule still applies first
  (round down to a multiple of 8, at least 32), then the Space's own limits: a multiple of 32 from
  256 to 2048. A size outside them (1000, 100) raises `InvalidRequestError`, a `ValueError`,
  instead of costing a round trip and failing on the Space. So does an empty prompt.
- **The API route is discovered, not hard-coded.** The original posts to ``/call/infer``, which
  answers 404 on Gradio 5 and later (the routes moved under ``/gradio_api``). This class reads the
  Space's ``/config`` and uses Gradio's queue protocol (``protocol="auto"``), which also carries
  the Space's error messages.
- **Authentication.** An ``api_key`` (or ``token``) keyword, else ``HF_TOKEN`` from the
  environment, is sent to the Space (and only to it) as a Hugging Face token, which raises the
  ZeroGPU quota. The original sent none.
- The connection is closed before the image is yielded, so abandoning the generator leaks nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias, cast

import httpx

from ._client import AsyncFluxClient
from ._errors import InvalidRequestError, ResponseError
from ._models import GenerateRequest
from ._protocol import classify_http

__all__ = [
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


class BlackForestLabs_Flux1Schnell:  # the gpt4free provider's name, kept for drop-in use
    """The FLUX.1-schnell Space, with gpt4free's provider interface.

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

    label: ClassVar[str] = "BlackForestLabs Flux-1-Schnell"
    url: ClassVar[str] = "https://black-forest-labs-flux-1-schnell.hf.space"
    api_endpoint: ClassVar[str] = "https://black-forest-labs-flux-1-schnell.hf.space/call/infer"
    working: ClassVar[bool] = True

    default_model: ClassVar[str] = "black-forest-labs-flux-1-schnell"
    default_image_model: ClassVar[str] = default_model
    model_aliases: ClassVar[dict[str, str]] = {"flux-schnell": default_model, "flux": default_model}
    image_models: ClassVar[list[str]] = [default_model, *model_aliases.keys()]
    models: ClassVar[list[str]] = image_models

    @classmethod
    def get_model(cls, model: str, **kwargs: object) -> str:
        """Resolve a model name: an alias to its model, an empty name to the default.

        Args:
            model: A model name or alias, or ``""`` for the default.
            **kwargs: Ignored (gpt4free passes provider options here).

        Returns:
            The model's full name.

        Raises:
            InvalidRequestError: ``model`` is not one of `models` (a ValueError).

        """
        if not model:
            return cls.default_model
        if model in cls.model_aliases:
            return cls.model_aliases[model]
        if model in cls.models:
            return model
        raise InvalidRequestError("model", model, "one of " + ", ".join(map(repr, cls.models)))

    @classmethod
    async def create_async_generator(
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
        request = _request(
            format_image_prompt(messages, prompt),
            width=width,
            height=height,
            num_inference_steps=num_inference_steps,
            seed=seed,
            randomize_seed=randomize_seed,
        )
        base_url = _str_option(kwargs, "base_url") or cls.url
        token = _str_option(kwargs, "api_key") or _str_option(kwargs, "token")
        async with AsyncFluxClient(base_url, token=token, protocol="auto", proxy=proxy) as client:
            generation = await client.generate(request)
        yield ImageResponse(images=[generation.url], alt=request.prompt)


def _round_size(value: int) -> int:
    """Round as the original provider did: down to a multiple of 8, at least 32."""
    try:
        return max(32, value - (value % 8))
    except TypeError:  # not a number: left for GenerateRequest to reject by name
        return value


def _request(
    prompt: str,
    *,
    width: int,
    height: int,
    num_inference_steps: int,
    seed: int,
    randomize_seed: bool,
) -> GenerateRequest:
    sizes = {"width": width, "height": height}
    rounded = {name: _round_size(value) for name, value in sizes.items()}
    try:
        return GenerateRequest(
            prompt=prompt,
            seed=seed,
            randomize_seed=randomize_seed,
            width=rounded["width"],
            height=rounded["height"],
            num_inference_steps=num_inference_steps,
        )
    except InvalidRequestError as exc:
        if exc.field in sizes and sizes[exc.field] != rounded[exc.field]:
            # Name the value the caller gave, and what the rounding made of it.
            raise InvalidRequestError(
                exc.field,
                sizes[exc.field],
                f"{exc.constraint} (after rounding down to a multiple of 8, at least 32,"
                f" it is {rounded[exc.field]})",
            ) from None
        raise


def _str_option(kwargs: Mapping[str, object], name: str) -> str | None:
    value = kwargs.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(name, value, "a string")
    return value
