"""The data flux-sdk sends and receives: the request, the result, and the stream's events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)
from typing_extensions import TypedDict

from ._errors import InvalidRequestError
from ._limits import (  # the bounds GenerateRequest's fields enforce
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_GUIDANCE,
    MIN_SIZE,
    MIN_STEPS,
    SIZE_STEP,
)

__all__ = [
    "Completed",
    "Event",
    "GenerateParams",
    "GenerateRequest",
    "Generation",
    "Log",
    "Preview",
    "Progress",
    "Queued",
    "Started",
]


_CONSTRAINTS = {
    "prompt": "a non-empty string, not only whitespace",
    "seed": f"an integer from 0 to {MAX_SEED}",
    "randomize_seed": "True or False",
    "width": f"an integer multiple of {SIZE_STEP} from {MIN_SIZE} to {MAX_SIZE}",
    "height": f"an integer multiple of {SIZE_STEP} from {MIN_SIZE} to {MAX_SIZE}",
    "num_inference_steps": f"an integer from {MIN_STEPS} to {MAX_STEPS}",
    "guidance_scale": f"a number from {MIN_GUIDANCE:g} to {MAX_GUIDANCE:g}, or None",
}

_Size = Annotated[StrictInt, Field(ge=MIN_SIZE, le=MAX_SIZE, multiple_of=SIZE_STEP)]


def _not_blank(prompt: str) -> str:
    # A prompt of spaces is as empty as "" to the model; refusing it here saves a job (and
    # ZeroGPU quota) that would draw nothing in particular.
    if not prompt.strip():
        raise ValueError("blank prompt")
    return prompt


_Prompt = Annotated[str, Field(strict=True, min_length=1), AfterValidator(_not_blank)]


class GenerateParams(TypedDict, total=False):
    """The optional generation parameters `generate()` and `stream()` accept as keywords."""

    seed: int
    randomize_seed: bool
    width: int
    height: int
    num_inference_steps: int
    guidance_scale: float


class GenerateRequest(BaseModel):
    """One image to generate, checked against the Space's limits before anything is sent.

    The defaults are the Space's own UI values: 1024×1024, 4 steps, seed 0, randomized.

    Raises:
        InvalidRequestError: A value is out of range or of the wrong type. It names the field,
            the value and what is allowed.

    Example:
        >>> GenerateRequest(prompt="a red fox", width=768, height=512).width
        768
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="forbid")

    prompt: _Prompt
    seed: Annotated[StrictInt, Field(ge=0, le=MAX_SEED)] = 0
    randomize_seed: StrictBool = True
    width: _Size = 1024
    height: _Size = 1024
    num_inference_steps: Annotated[StrictInt, Field(ge=MIN_STEPS, le=MAX_STEPS)] = 4
    guidance_scale: (
        Annotated[float, Field(strict=True, ge=MIN_GUIDANCE, le=MAX_GUIDANCE)] | None
    ) = None

    if TYPE_CHECKING:
        # What type checkers see: the real parameters, keyword-only.
        def __init__(
            self,
            *,
            prompt: str,
            seed: int = 0,
            randomize_seed: bool = True,
            width: int = 1024,
            height: int = 1024,
            num_inference_steps: int = 4,
            guidance_scale: float | None = None,
        ) -> None: ...

    else:

        def __init__(self, **data: object) -> None:
            # A bad value becomes InvalidRequestError (field, value, allowed range), not
            # pydantic's ValidationError, so users catch one error for bad input.
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> InvalidRequestError:
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "request"
    constraint = _CONSTRAINTS.get(field, "a known parameter (" + ", ".join(_CONSTRAINTS) + ")")
    value = None if first["type"] == "missing" else first.get("input")
    return InvalidRequestError(field, value, constraint)


class Generation(BaseModel):
    """A generated image: where it is, and the seed that made it.

    Attributes:
        url: The absolute URL of the image on the Space (WebP on the real Space).
        path: The file's path on the Space's server, as Gradio reports it.
        seed: The seed the Space used (the random one when ``randomize_seed`` was true).
        request: The request this image answers.
        space: The base URL of the Space that made it (one of a pool's, when there are several).
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    url: str
    path: str
    seed: int
    request: GenerateRequest
    space: str = ""


class Queued(BaseModel):
    """The job waits in the Space's queue.

    Attributes:
        rank: Jobs ahead of this one (0 = next), or None when the Space does not say.
        queue_size: Jobs waiting in the queue, or None.
        eta: The Space's estimate of seconds until this job finishes, or None before the Space
            has timed a job.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)
    type: Literal["queued"] = "queued"
    rank: int | None = None
    queue_size: int | None = None
    eta: float | None = None


class Started(BaseModel):
    """The job left the queue and runs.

    Attributes:
        eta: The Space's estimate of seconds until the job finishes, or None.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)
    type: Literal["started"] = "started"
    eta: float | None = None


class Progress(BaseModel):
    """Denoising progress.

    Attributes:
        step: Steps done so far (0 when the first one starts).
        total: Steps in all, or None when the Space does not say.
        unit: The unit Gradio reports, usually ``"steps"``.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)
    type: Literal["progress"] = "progress"
    step: int
    total: int | None = None
    unit: str = "steps"


class Log(BaseModel):
    """A log message from the Space: ZeroGPU's "Waiting for a GPU", gr.Info or gr.Warning.

    Attributes:
        level: ``"info"``, ``"warning"``, ``"success"`` or ``"error"``.
        message: The notice's text.
        title: Its title (e.g. ``"ZeroGPU queue"``), None on Gradio 4.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)
    type: Literal["log"] = "log"
    level: str
    message: str
    title: str | None = None


class Preview(BaseModel):
    """An intermediate image, streamed by Spaces such as FLUX.1-dev while they denoise.

    Attributes:
        url: The absolute URL of the preview image.
        path: Its path on the Space's server.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)
    type: Literal["preview"] = "preview"
    url: str
    path: str


class Completed(BaseModel):
    """The job finished with an image; always the last event of a successful stream.

    Attributes:
        generation: The result.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)
    type: Literal["completed"] = "completed"
    generation: Generation


Event = Annotated[
    Queued | Started | Progress | Log | Preview | Completed, Field(discriminator="type")
]
"""What a stream yields: a discriminated union, so ``match`` and ``isinstance`` both work."""
