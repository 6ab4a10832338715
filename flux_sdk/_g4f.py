"""The gpt4free providers: `flux_sdk.compat`'s classes as genuine g4f providers.

Imported by `flux_sdk.compat` only when g4f is installed (the ``[g4f]`` extra; tested with g4f
8.8.6). The classes subclass g4f's ``AsyncGeneratorProvider`` and ``ProviderModelMixin``, so g4f's
client, ``ChatCompletion``, ``IterListProvider`` and ``RetryProvider`` take them as their own
providers: they yield g4f's ``ImageResponse``, and with ``stream=True`` the job's progress first,
as g4f's ``Reasoning`` and ``ImagePreview`` (the shape of g4f's own ``BlackForestLabs_Flux1Dev``).
What the Space refuses or fails raises a class that is both the SDK's error and g4f's
``ResponseError``.
"""

# pyright: reportMissingModuleSource=false
# (g4f is optional: where it is not installed, the checker reads typings/g4f alone.)

from collections.abc import AsyncGenerator, Mapping
from typing import Optional

import g4f.errors
from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin
from g4f.providers.helper import format_media_prompt
from g4f.providers.response import ImagePreview, ImageResponse, Reasoning, ResponseType
from g4f.typing import Messages

import flux_sdk._errors as sdk

from ._client import AsyncFluxClient
from ._errors import ProtocolError
from ._models import Completed, Event, GenerateParams, Log, Preview, Progress, Queued, Started
from ._providers import Flux1Dev, Flux1Schnell, FluxProvider

__all__ = ["BlackForestLabs_Flux1Dev", "BlackForestLabs_Flux1Schnell"]


# -- errors: each SDK ResponseError is also g4f's ResponseError -----------------------------------
# One class per SDK class, each with a module-level name: pickling (FluxError.__reduce__) finds
# a class by its module and name.


class ResponseError(sdk.ResponseError, g4f.errors.ResponseError):
    """`flux_sdk.ResponseError`, also a ``g4f.errors.ResponseError``."""


class QuotaExceededError(sdk.QuotaExceededError, ResponseError):
    """`flux_sdk.QuotaExceededError`, also a ``g4f.errors.ResponseError``."""


class RateLimitError(sdk.RateLimitError, ResponseError):
    """`flux_sdk.RateLimitError`, also a ``g4f.errors.ResponseError``."""


class GPUUnavailableError(sdk.GPUUnavailableError, ResponseError):
    """`flux_sdk.GPUUnavailableError`, also a ``g4f.errors.ResponseError``."""


class QueueFullError(sdk.QueueFullError, ResponseError):
    """`flux_sdk.QueueFullError`, also a ``g4f.errors.ResponseError``."""


class SpaceUnavailableError(sdk.SpaceUnavailableError, ResponseError):
    """`flux_sdk.SpaceUnavailableError`, also a ``g4f.errors.ResponseError``."""


class InputRejectedError(sdk.InputRejectedError, ResponseError):
    """`flux_sdk.InputRejectedError`, also a ``g4f.errors.ResponseError``."""


class JobFailedError(sdk.JobFailedError, ResponseError):
    """`flux_sdk.JobFailedError`, also a ``g4f.errors.ResponseError``."""


class JobCancelledError(sdk.JobCancelledError, ResponseError):
    """`flux_sdk.JobCancelledError`, also a ``g4f.errors.ResponseError``."""


class EndpointNotFoundError(sdk.EndpointNotFoundError, ResponseError):
    """`flux_sdk.EndpointNotFoundError`, also a ``g4f.errors.ResponseError``."""


class DownloadError(sdk.DownloadError, ResponseError):
    """`flux_sdk.DownloadError`, also a ``g4f.errors.ResponseError``."""


_G4F_ERRORS: Mapping[type[sdk.ResponseError], type[ResponseError]] = {
    sdk.ResponseError: ResponseError,
    sdk.QuotaExceededError: QuotaExceededError,
    sdk.RateLimitError: RateLimitError,
    sdk.GPUUnavailableError: GPUUnavailableError,
    sdk.QueueFullError: QueueFullError,
    sdk.SpaceUnavailableError: SpaceUnavailableError,
    sdk.InputRejectedError: InputRejectedError,
    sdk.JobFailedError: JobFailedError,
    sdk.JobCancelledError: JobCancelledError,
    sdk.EndpointNotFoundError: EndpointNotFoundError,
    sdk.DownloadError: DownloadError,
}


def g4f_error(error: sdk.ResponseError) -> ResponseError:
    """The same error, as a ``g4f.errors.ResponseError`` too: same attributes, same text."""
    if isinstance(error, ResponseError):
        return error
    # A subclass the table does not know (a future one) falls back to its nearest known base.
    known = next(base for base in type(error).__mro__ if base in _G4F_ERRORS)
    cls = _G4F_ERRORS[known]
    converted = cls.__new__(cls)
    Exception.__init__(converted, *error.args)
    converted.__dict__.update(error.__dict__)
    return converted


# -- the job's events in g4f's terms ---------------------------------------------------------------


def g4f_items(event: Event, prompt: str) -> list[ResponseType]:
    """What g4f's own FLUX.1-dev provider yields for such an event (the result excluded)."""
    if isinstance(event, Queued):
        if event.rank is None:
            return [Reasoning(status="In queue")]
        of = f" of {event.queue_size}" if event.queue_size is not None else ""
        return [Reasoning(status=f"In queue: position {event.rank + 1}{of}")]
    if isinstance(event, Started):
        return [Reasoning(status="Generating")]
    if isinstance(event, Progress):
        total = f"/{event.total}" if event.total is not None else ""
        return [Reasoning(status=f"{event.step}{total} {event.unit}")]
    if isinstance(event, Log):
        title = f"{event.title}: " if event.title else ""
        return [Reasoning(status=f"{title}{event.message}")]
    if isinstance(event, Preview):
        return [ImagePreview(event.url, prompt)]
    return []


async def _images(
    space: type[FluxProvider],
    messages: Messages,
    prompt: str | None,
    params: GenerateParams,
    proxy: str | None,
    stream: bool,
    kwargs: Mapping[str, object],
) -> AsyncGenerator[ResponseType, None]:
    # What create_async_generator returns, so that closing it closes the SDK's stream inside at
    # once; nothing runs, nor is checked, before the first iteration.
    # g4f's own prompt rule: the prompt alone when given (its client passes the user's), else
    # the last user message; not format_image_prompt's join, which would repeat the prompt.
    request = space.request(format_media_prompt(messages, prompt), params)
    base_url, token = space.client_options(kwargs)
    generation = None
    try:
        async with (
            AsyncFluxClient(
                base_url, space=space.descriptor, token=token, protocol="auto", proxy=proxy
            ) as client,
            client.stream(request) as events,
        ):
            async for event in events:
                if isinstance(event, Completed):
                    generation = event.generation
                elif stream:
                    for item in g4f_items(event, request.prompt):
                        yield item
    except sdk.ResponseError as exc:
        raise g4f_error(exc).with_traceback(exc.__traceback__) from exc.__cause__
    if generation is None:  # the SDK's stream ends with Completed or raises
        raise ProtocolError("the stream ended without a result")
    if stream:
        yield Reasoning(status="")  # clears the status line, as g4f's own providers do
    yield ImageResponse(generation.url, request.prompt, {"seed": generation.seed})


# The two signatures are spelled out, like those of compat's standalone classes: g4f reads a
# provider's parameters and defaults from its create_async_generator (get_parameters).
# FLUX.1-schnell's defaults are the original provider's (768×768, 2 steps), FLUX.1-dev's its
# Space's UI values (tests/g4f/test_chat.py compares them with flux_sdk.FLUX_DEV's).
# Optional[str] where g4f lists the parameter (prompt, api_key): get_parameters(as_json=True),
# the examples g4f's GUI and API show, gives None for it, but the text "str | None" for that.


class BlackForestLabs_Flux1Schnell(Flux1Schnell, AsyncGeneratorProvider, ProviderModelMixin):
    """The FLUX.1-schnell Space as a gpt4free provider (g4f's removed provider, working).

    Example:
        >>> from g4f.client import Client  # doctest: +SKIP
        >>> Client().images.generate(  # doctest: +SKIP
        ...     "a red fox", model="flux", provider=BlackForestLabs_Flux1Schnell)
    """

    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        prompt: Optional[str] = None,  # noqa: UP045
        width: int = 768,
        height: int = 768,
        num_inference_steps: int = 2,
        seed: int = 0,
        randomize_seed: bool = True,
        api_key: Optional[str] = None,  # noqa: UP045
        stream: bool = False,
        **kwargs: object,
    ) -> AsyncGenerator[ResponseType, None]:
        """Generate one image: its progress as g4f's `Reasoning` (with ``stream``), then it.

        Sizes are rounded as the original provider did (down to a multiple of 8, at least 32),
        then must be a multiple of 32 from 256 to 2048; otherwise `InvalidRequestError` is
        raised before anything is sent.

        Args:
            model: Ignored (there is one model).
            messages: The conversation; its last user message is the prompt unless ``prompt``.
            proxy: A proxy URL for every request, or None for the usual environment variables.
            prompt: The prompt (g4f's client passes the user's).
            width: The image width in pixels.
            height: The image height in pixels.
            num_inference_steps: Denoising steps, 1 to 50.
            seed: The seed, used when ``randomize_seed`` is false.
            randomize_seed: Let the Space pick a random seed.
            api_key: A Hugging Face token (also ``token=``); default ``HF_TOKEN``.
            stream: Also yield the queue position, steps and ZeroGPU notices as `Reasoning`.
            **kwargs: ``base_url`` (a Space URL, instead of `url`); others are ignored.

        Yields:
            With ``stream``, `Reasoning` items; then one g4f `ImageResponse`: the image's URL,
            the prompt as ``alt``, and the seed in its options.

        Raises:
            InvalidRequestError: The prompt is empty or a parameter is out of range.
            ResponseError: The Space refused or failed the job: the SDK's subclass (e.g.
                `QuotaExceededError`), which is also a ``g4f.errors.ResponseError``.

        """
        params = GenerateParams(
            seed=seed,
            randomize_seed=randomize_seed,
            width=width,
            height=height,
            num_inference_steps=num_inference_steps,
        )
        options = {**kwargs, "api_key": api_key}
        return _images(cls, messages, prompt, params, proxy, stream, options)


class BlackForestLabs_Flux1Dev(Flux1Dev, AsyncGeneratorProvider, ProviderModelMixin):
    """The FLUX.1-dev Space as a gpt4free provider, in place of g4f's own.

    Unlike g4f's, it discovers the Space's routes, sends a Hugging Face token instead of
    scraping a ZeroGPU one from huggingface.co, and raises typed errors.
    """

    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        prompt: Optional[str] = None,  # noqa: UP045
        width: int = 1024,
        height: int = 1024,
        guidance_scale: float = 3.5,
        num_inference_steps: int = 28,
        seed: int = 0,
        randomize_seed: bool = True,
        api_key: Optional[str] = None,  # noqa: UP045
        stream: bool = False,
        **kwargs: object,
    ) -> AsyncGenerator[ResponseType, None]:
        """Generate one image: progress and previews (with ``stream``), then the image.

        Args:
            model: Ignored (there is one model).
            messages: The conversation; its last user message is the prompt unless ``prompt``.
            proxy: A proxy URL for every request, or None for the usual environment variables.
            prompt: The prompt (g4f's client passes the user's).
            width: The image width in pixels, a multiple of 32 from 256 to 2048.
            height: The image height in pixels, likewise.
            guidance_scale: How closely the image follows the prompt, 1 to 15.
            num_inference_steps: Denoising steps, 1 to 50.
            seed: The seed, used when ``randomize_seed`` is false.
            randomize_seed: Let the Space pick a random seed.
            api_key: A Hugging Face token (also ``token=``); default ``HF_TOKEN``.
            stream: Also yield progress as `Reasoning` and previews as `ImagePreview`.
            **kwargs: ``base_url`` (a Space URL, instead of `url`); others are ignored.

        Yields:
            With ``stream``, `Reasoning` and `ImagePreview` items; then one g4f
            `ImageResponse`.

        Raises:
            InvalidRequestError: The prompt is empty or a parameter is out of range.
            ResponseError: The Space refused or failed the job: the SDK's subclass, which is
                also a ``g4f.errors.ResponseError``.

        """
        params = GenerateParams(
            seed=seed,
            randomize_seed=randomize_seed,
            width=width,
            height=height,
            guidance_scale=guidance_scale,
            num_inference_steps=num_inference_steps,
        )
        options = {**kwargs, "api_key": api_key}
        return _images(cls, messages, prompt, params, proxy, stream, options)
