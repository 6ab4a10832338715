"""``flux generate``: run one job, follow it on the live display, save the image.

The request is validated before anything else happens (no Space is contacted, no local Space is
started, for a value out of range). The job runs on the synchronous `FluxClient`: Ctrl-C leaves
the event stream's ``with`` block, which cancels the job on the Space before the command exits.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from ._cli_display import open_display
from ._cli_errors import OutputError
from ._cli_session import open_session
from ._config import DEFAULT_SPACE, DEFAULT_TIMEOUT, ProtocolName
from ._models import Completed, GenerateParams, GenerateRequest, Generation
from ._spaces import resolve_space

__all__ = [
    "GenerateOptions",
    "JobOptions",
    "JobValues",
    "Saved",
    "default_filename",
    "output_path",
    "request_for",
    "run_generate",
]


@dataclass(frozen=True, kw_only=True)
class JobOptions:
    """The options ``flux generate`` and ``flux batch`` share.

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        steps: Inference steps, or None for the model's default.
        seed: The seed (of every prompt, in a batch); None randomizes it on the Space.
        space: The Space's URL, or ``"local"``.
        token: A Hugging Face token, or None for ``HF_TOKEN``.
        protocol: ``"auto"``, ``"queue"`` or ``"call"``.
        timeout: Seconds for each job, or None for the SDK's default.
        verbose: Show the SDK's INFO log on the display, not only its warnings.
        model: ``"flux-schnell"`` or ``"flux-dev"``: the client's ``space=`` alias.
        guidance: The guidance scale (flux-dev only), or None for the Space's default.
        wait_on_quota: Wait out a ZeroGPU quota error and try again (the client's option).
    """

    width: int = 1024
    height: int = 1024
    steps: int | None = None
    seed: int | None = None
    space: str = DEFAULT_SPACE
    token: str | None = None
    protocol: ProtocolName = "auto"
    timeout: float | None = None
    verbose: bool = False
    model: str = "flux-schnell"
    guidance: float | None = None
    wait_on_quota: bool = False


@dataclass(frozen=True, kw_only=True)
class GenerateOptions(JobOptions):
    """What ``flux generate`` was asked to do, with the `JobOptions`.

    Attributes:
        prompt: The text prompt.
        output: ``-o``: a file, a directory, or None for ``flux-<seed>.webp`` in the cwd.
    """

    prompt: str
    output: str | None


@dataclass(frozen=True)
class Saved:
    """A saved image, as the command reports it.

    Attributes:
        path: Where the file is (as the user named it, or the default name).
        generation: The job's result.
    """

    path: Path
    generation: Generation

    def summary(self) -> str:
        """``"saved fox.webp (768×512, seed 7)"``."""
        request = self.generation.request
        return (
            f"saved {self.path} ({request.width}\N{MULTIPLICATION SIGN}{request.height}, "
            f"seed {self.generation.seed})"
        )

    def to_json(self) -> dict[str, object]:
        """The JSON object printed on stdout in machine-readable mode."""
        return {
            "path": os.path.abspath(self.path),
            "url": self.generation.url,
            "seed": self.generation.seed,
            "width": self.generation.request.width,
            "height": self.generation.request.height,
            "prompt": self.generation.request.prompt,
        }


class JobValues(Protocol):
    """The request options ``generate`` and ``batch`` share."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def steps(self) -> int | None: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def model(self) -> str: ...
    @property
    def guidance(self) -> float | None: ...


def request_for(prompt: str, options: JobValues) -> GenerateRequest:
    """The validated request for ``prompt``: the ``--model``'s defaults, then the options.

    The seed is randomized unless ``--seed`` was given; steps and guidance left out take the
    model's defaults (4 steps for flux-schnell; 28 steps and guidance 3.5 for flux-dev).

    Raises:
        InvalidRequestError: A value is out of the Space's range.
    """
    params = GenerateParams(
        seed=options.seed if options.seed is not None else 0,
        randomize_seed=options.seed is None,
        width=options.width,
        height=options.height,
    )
    if options.steps is not None:
        params["num_inference_steps"] = options.steps
    if options.guidance is not None:
        params["guidance_scale"] = options.guidance
    return resolve_space(options.model).request(prompt, params)


def build_request(options: GenerateOptions) -> GenerateRequest:
    """The validated request for ``flux generate`` (see `request_for`).

    Raises:
        InvalidRequestError: A value is out of the Space's range.
    """
    return request_for(options.prompt, options)


def default_filename(seed: int) -> str:
    """``flux-<seed>.webp``: the Space sends WebP."""
    return f"flux-{seed}.webp"


def output_path(output: str | None, seed: int) -> Path:
    """Where to save: ``-o FILE``, ``-o DIR/flux-<seed>.webp``, or ``flux-<seed>.webp``."""
    if output is None:
        return Path(default_filename(seed))
    path = Path(output).expanduser()
    if path.is_dir():
        return path / default_filename(seed)
    return path


def run_generate(options: GenerateOptions, *, live: bool, stream: IO[str] | None = None) -> Saved:
    """Generate one image and save it.

    Args:
        options: The parsed command line.
        live: Show the live display on ``stream``.
        stream: The terminal stream for the display; defaults to stderr.

    Returns:
        The saved image.

    Raises:
        InvalidRequestError: A value is out of range (nothing was contacted or started).
        UsageError: ``--space local`` without Gradio installed.
        FluxError: The job failed (see the exception tree).
        OutputError: The file could not be written.
        KeyboardInterrupt: Ctrl-C; the job has been cancelled on the Space.
    """
    from ._cli_local import require_gradio
    from ._sync import FluxClient

    request = build_request(options)
    if options.space == "local":
        require_gradio()
    with ExitStack() as stack:
        display = open_display(live=live, stream=stream or sys.stderr)
        url = open_session(
            stack, display, space=options.space, model=options.model, verbose=options.verbose
        )
        client = stack.enter_context(
            FluxClient(
                url,
                space=options.model,
                token=options.token,
                protocol=options.protocol,
                timeout=DEFAULT_TIMEOUT if options.timeout is None else options.timeout,
                wait_on_quota=options.wait_on_quota,
            )
        )
        generation: Generation | None = None
        with client.stream(request) as events:
            for event in events:
                display.event(event)
                if isinstance(event, Completed):
                    generation = event.generation
        if generation is None:  # pragma: no cover  (the SDK raises instead)
            from ._errors import ProtocolError

            raise ProtocolError("the stream ended without a result")
        path = output_path(options.output, generation.seed)
        display.status(f"downloading to {path}")
        try:
            client.save(generation, path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(
                f"cannot write {path}: {reason}; choose another file with -o"
            ) from exc
    return Saved(path=path, generation=generation)
