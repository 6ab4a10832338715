"""``flux generate``: run one job, follow it on the live display, save the image.

The request and ``-o`` are checked before anything else happens: for a value out of range, an
output that cannot be written or a format that needs a missing Pillow, no Space is contacted
and no local Space is started. The job runs on `AsyncFluxClient`, driven on the main thread
(``anyio.run``): a cold process starts no loop thread and hops to none. Ctrl-C or SIGTERM cancels
the job's scope (`._signals`): the event stream's ``async with`` block cancels the job on the
Space as it unwinds, before the command exits.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import anyio

from .._client import AsyncFluxClient
from .._errors import MissingExtraError, ProtocolError
from .._image import IMAGE_FORMATS, encode_image, require_pillow
from .._models import Completed, GenerateParams, GenerateRequest, Generation
from .._spaces import resolve_space
from ._args import LOCAL, GenerateOptions, JobFlags
from ._display import Display, open_display
from ._errors import ExitCode, OutputError, UsageError
from ._output import OutputMode, print_json, print_line
from ._session import client_for, open_session
from ._signals import signals_restored, watch_signals

__all__ = [
    "OutputTarget",
    "Saved",
    "default_filename",
    "generate_command",
    "output_path",
    "output_target",
    "request_for",
    "run_generate",
]


@dataclass(frozen=True)
class Saved:
    """A saved image, as the command reports it.

    Attributes:
        path: Where the file is (as the user named it, or the default name).
        generation: The job's result.
        local: The image came from a local Space started for this command: its URL stopped
            working when the command ended, so it is not reported.
    """

    path: Path
    generation: Generation
    local: bool = False

    def summary(self) -> str:
        """``"saved fox.webp (768×512, seed 7)"``."""
        request = self.generation.request
        return (
            f"saved {self.path} ({request.width}\N{MULTIPLICATION SIGN}{request.height}, "
            f"seed {self.generation.seed})"
        )

    def to_json(self) -> dict[str, object]:
        """The JSON object ``--json`` prints; ``url`` is null for ``--url local``."""
        return {
            "path": os.path.abspath(self.path),
            "url": None if self.local else self.generation.url,
            "seed": self.generation.seed,
            "width": self.generation.request.width,
            "height": self.generation.request.height,
            "prompt": self.generation.request.prompt,
        }


def request_for(prompt: str, options: JobFlags) -> GenerateRequest:
    """The validated request for ``prompt``: the ``--space`` kind's defaults, then the flags.

    The seed is randomized unless ``--seed`` was given; steps and guidance left out take the
    kind's defaults (4 steps for flux-schnell; 28 steps and guidance 3.5 for flux-dev).

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
    return resolve_space(options.space).request(prompt, params)


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


@dataclass(frozen=True)
class OutputTarget:
    """Where ``-o`` puts the image and in which format, checked before the job is submitted.

    Attributes:
        output: ``-o`` as given (None: the current directory).
        pil_format: The Pillow format to convert to (``"PNG"``, ``"JPEG"``), or None to write
            the Space's WebP as served.
    """

    output: str | None
    pil_format: str | None = None

    def path(self, seed: int) -> Path:
        """The file for the image with ``seed`` (a directory gets ``flux-<seed>.webp``)."""
        return output_path(self.output, seed)


def _supported() -> str:
    names = list(IMAGE_FORMATS)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _writable_directory(directory: Path, *, create: bool) -> None:
    """Make sure the image can be written in ``directory``, creating it if asked."""
    if create:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if isinstance(exc, FileExistsError):
                reason = "a file of that name exists"
            raise OutputError(
                f"cannot create the directory {directory}: {reason}; choose another -o"
            ) from exc
    # A real file, not os.access(): root passes that check on /proc, /sys or a read-only mount,
    # and would find out only after the job.
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".flux-write-check-")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write in {directory}: {reason}; choose another -o") from exc
    os.close(fd)
    os.unlink(probe)


def output_target(output: str | None) -> OutputTarget:
    """Check ``-o`` before any job is submitted.

    The extension must be one flux generate writes, Pillow must be there if it converts, and
    the directory must exist (missing parents are created, as ``flux batch`` does) and be
    writable.

    Raises:
        UsageError: The file name's extension is not one flux generate writes.
        MissingExtraError: ``.png``/``.jpg``/``.jpeg`` without Pillow (the ``pil`` extra).
        OutputError: The directory cannot be created or written in.
    """
    if output is None:
        _writable_directory(Path.cwd(), create=False)
        return OutputTarget(None)
    path = Path(output).expanduser()
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except OSError as exc:  # e.g. a name too long for the file system
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write {path}: {reason}; choose another file with -o") from exc
    if is_dir or output.endswith(("/", os.sep)):
        _writable_directory(path, create=True)
        return OutputTarget(output)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_FORMATS:
        what = f"an unknown extension {path.suffix!r}" if path.suffix else "no extension"
        raise UsageError(
            f"-o {output}: {what}; name the file with {_supported()} (or give a directory, "
            "ending with / if it does not exist yet)"
        )
    pil_format = IMAGE_FORMATS[suffix]
    if pil_format is not None:
        try:
            require_pillow()
        except MissingExtraError as exc:
            raise MissingExtraError(
                exc.extra,
                exc.package,
                f"-o {path.name} (converting the Space's WebP to {pil_format})",
            ) from exc
    _writable_directory(path.parent, create=True)
    if exists:
        try:
            with open(path, "ab"):  # opened as it will be replaced, nothing written
                pass
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(
                f"cannot write {path}: {reason}; choose another file with -o"
            ) from exc
    return OutputTarget(output, pil_format)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file: never a half-written image."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


async def _save(
    client: AsyncFluxClient, generation: Generation, path: Path, pil_format: str | None
) -> None:
    """Save the image at ``path``: as served, or converted to ``pil_format``."""
    if pil_format is None:
        await client.save(generation, path)
        return
    data = await client.download(generation)
    _write_atomically(path, encode_image(data, pil_format))


def _lost_image(generation: Generation, *, local: bool) -> str:
    """What the message of a failed save says about the image that was made."""
    if local:
        # The local Space stops with the command: its URL would be a dead link.
        return (
            "the local Space that made it stops with this command: "
            "run it again with an -o that can be written"
        )
    return f"the image stays on the Space for a while at {generation.url}"


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
        UsageError: ``--url local`` without Gradio installed.
        FluxError: The job failed (see the exception tree).
        UsageError: ``-o`` has an extension flux generate does not write.
        MissingExtraError: ``-o`` is a PNG or JPEG file and Pillow is not installed.
        OutputError: The file cannot be written (checked before the job), or could not be
            written after it (the message says where the image is).
        KeyboardInterrupt: Ctrl-C; the job has been cancelled on the Space.
    """
    from ._local import require_gradio

    request = request_for(options.prompt, options)
    target = output_target(options.output)
    local = options.url == LOCAL
    if local:
        require_gradio()
    with ExitStack() as stack:
        display = open_display(live=live, stream=stream or sys.stderr)
        url = open_session(stack, display, options)
        job = _Job(url, options, request, target, display, local)
        with signals_restored():
            outcome = anyio.run(_run_job, job)
        if isinstance(outcome, KeyboardInterrupt):
            # The job has been cancelled on the Space; main() reports the interrupt.
            raise outcome
    return outcome


@dataclass(frozen=True)
class _Job:
    """What the job needs once the command line and ``-o`` are checked."""

    url: str
    options: GenerateOptions
    request: GenerateRequest
    target: OutputTarget
    display: Display
    local: bool


async def _run_job(job: _Job) -> Saved | KeyboardInterrupt:
    """Run the job and save its image, unless Ctrl-C or SIGTERM comes first.

    Returns:
        The saved image, or the interrupt (`Terminated` for SIGTERM) that cancelled the job.
    """
    caught: list[KeyboardInterrupt] = []
    saved: list[Saved] = []
    failed: list[Exception] = []
    async with anyio.create_task_group() as group:
        await group.start(watch_signals, group.cancel_scope, caught)
        try:
            saved.append(await _generate_and_save(job))
        except Exception as exc:
            # Raised below, outside the task group, which would wrap it in an ExceptionGroup.
            failed.append(exc)
        group.cancel_scope.cancel()  # done: stop watching for signals
    if caught:
        return caught[0]
    if failed:
        raise failed[0]
    return saved[0]


async def _generate_and_save(job: _Job) -> Saved:
    """Follow the job on the display, then save its image where ``-o`` says."""
    options, display = job.options, job.display
    async with client_for(job.url, options) as client:
        generation: Generation | None = None
        async with client.stream(job.request) as events:
            async for event in events:
                display.event(event)
                if isinstance(event, Completed):
                    generation = event.generation
        if generation is None:  # pragma: no cover  (the SDK raises instead)
            raise ProtocolError("the stream ended without a result")
        path = job.target.path(generation.seed)
        display.status(f"downloading to {path}")
        try:
            await _save(client, generation, path, job.target.pil_format)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(
                f"cannot write {path}: {reason}; {_lost_image(generation, local=job.local)}"
            ) from exc
    return Saved(path=path, generation=generation, local=job.local)


def generate_command(options: GenerateOptions, mode: OutputMode) -> int:
    """``flux generate``: run the job, then print where the image is.

    Returns:
        The exit status: 0 (a failure raises).
    """
    saved = run_generate(options, live=mode.live)
    if mode.json_result:
        print_json(saved.to_json(), sys.stdout)
    else:
        print_line(saved.summary(), sys.stdout)
    return ExitCode.OK
