"""``flux batch``: one image per line of a prompt file, ``--concurrency`` at a time.

The prompt file has one prompt a line; blank lines and lines starting with ``#`` are skipped
(`parse_prompts`). The n-th prompt's image is saved as ``DIR/<n, 4 digits>-<slug>.webp``
(`image_name`), so the names are known before the batch runs and sort in file order.

Why not `FluxClient.generate_many`: its ``progress`` callback gets ``(done, total)`` only, so
the images could be saved only when the whole batch is over, and a failure to save, or Ctrl-C,
late in a long batch would lose every image made so far. So the batch runs here on the async
client with ``generate_many``'s own recipe (a task group and a `anyio.CapacityLimiter`), and
each job downloads its image as soon as the Space made it. One failure loses nothing else.

Ctrl-C (or SIGTERM) cancels the scope of the jobs, which cancels every job still running on
the Space too (the client does it as the jobs unwind); `run_batch` then returns the partial
result, and the command prints it before exiting 130 (143).

Resuming: each saved image gets its line in the directory's manifest (`Manifest`), and a re-run
skips the prompts the manifest vouches for; they are never sent. When every prompt is skipped,
no Space is contacted (and ``--url local`` starts none).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio

from .._errors import FluxError
from .._models import GenerateRequest
from ._args import LOCAL, BatchOptions
from ._display import Display, open_display
from ._errors import (
    ErrorContext,
    ExitCode,
    Failure,
    OutputError,
    Terminated,
    UsageError,
    describe,
)
from ._generate import request_for
from ._local import require_gradio
from ._manifest import MANIFEST_NAME, Manifest, Recipe
from ._output import OutputMode, print_json, print_line, report
from ._session import client_for, open_session
from ._signals import signals_restored, watch_signals

__all__ = [
    "MAX_SLUG",
    "BatchResult",
    "PromptLine",
    "PromptReport",
    "batch_command",
    "image_name",
    "parse_prompts",
    "read_prompts",
    "run_batch",
    "slugify",
]

MAX_SLUG = 40
"""The longest slug of a prompt in an image's name."""

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SUMMARY_PROMPT = 60
"""The longest prompt quoted in the summary."""
_INTERRUPTS = ("KeyboardInterrupt", "Terminated")
"""The classes of the prompts an interrupt stopped."""


@dataclass(frozen=True)
class PromptLine:
    """One prompt of the file.

    Attributes:
        index: Its place among the prompts, from 1: the number in its image's name.
        line: Its line number in the file, from 1 (blank and comment lines count).
        prompt: The text, without surrounding whitespace.
    """

    index: int
    line: int
    prompt: str

    @property
    def filename(self) -> str:
        """Its image's file name: `image_name`."""
        return image_name(self.index, self.prompt)


def parse_prompts(lines: Iterable[str]) -> list[PromptLine]:
    """The prompts of a prompt file, in order.

    Each line is one prompt, stripped of surrounding whitespace. Blank lines, and lines whose
    first non-blank character is ``#``, are skipped (but counted in `PromptLine.line`).

    Example:
        >>> [p.prompt for p in parse_prompts(["# foxes", "", "  a red fox  ", "a fox"])]
        ['a red fox', 'a fox']
    """
    prompts: list[PromptLine] = []
    for number, text in enumerate(lines, start=1):
        prompt = text.strip()
        if prompt and not prompt.startswith("#"):
            prompts.append(PromptLine(index=len(prompts) + 1, line=number, prompt=prompt))
    return prompts


def slugify(prompt: str, max_length: int = MAX_SLUG) -> str:
    """The prompt as lowercase ASCII letters, digits and single hyphens, at most ``max_length``.

    Accents are dropped (``é`` becomes ``e``); any other run of characters becomes one hyphen.
    The result is empty when the prompt has no ASCII letter or digit.

    Example:
        >>> slugify("A red fox, in fresh snow!")
        'a-red-fox-in-fresh-snow'
    """
    ascii_text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def image_name(index: int, prompt: str) -> str:
    """``0001-a-red-fox.webp``: the prompt's place (4 digits, from 1) and its slug.

    Just ``0001.webp`` when the slug is empty. The Space sends WebP images.

    Example:
        >>> image_name(3, "[error] boom")
        '0003-error-boom.webp'
    """
    slug = slugify(prompt)
    return f"{index:04d}-{slug}.webp" if slug else f"{index:04d}.webp"


def read_prompts(file: str, stdin: IO[str] | None = None) -> list[PromptLine]:
    """The prompts of ``file`` (UTF-8; ``-`` reads ``stdin``).

    Raises:
        UsageError: The file cannot be read, or is not UTF-8 text.
    """
    if file == "-":
        return parse_prompts((stdin or sys.stdin).read().splitlines())
    try:
        text = Path(file).expanduser().read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{file} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"cannot read the prompt file {file}: {exc.strerror or exc}") from None
    return parse_prompts(text.splitlines())


@dataclass(frozen=True)
class PromptReport:
    """What became of one prompt: its image saved, or why not (a line of the batch's report).

    Attributes:
        prompt: The prompt.
        path: Where its image was saved, or None.
        seed: The seed the Space used, or None.
        failure: Why it has no image (`describe`'s one-line message and class), or None.
        skipped: Its image was already there, from an earlier run (the manifest says so).
    """

    prompt: PromptLine
    path: Path | None = None
    seed: int | None = None
    failure: Failure | None = None
    skipped: bool = False

    def to_json(self) -> dict[str, object]:
        """One entry of the JSON output's ``results``."""
        return {
            "line": self.prompt.line,
            "index": self.prompt.index,
            "prompt": self.prompt.prompt,
            "path": os.path.abspath(self.path) if self.path is not None else None,
            "seed": self.seed,
            "error": self.failure.message if self.failure is not None else None,
            "error_class": self.failure.error if self.failure is not None else None,
            "skipped": self.skipped,
        }

    def failure_line(self) -> str:
        """``line 3 "[error] boom": the job failed on the Space: boom``."""
        prompt = self.prompt.prompt
        if len(prompt) > _SUMMARY_PROMPT:
            prompt = prompt[: _SUMMARY_PROMPT - 1] + "…"
        message = self.failure.message if self.failure is not None else "saved"
        return f'line {self.prompt.line} "{prompt}": {message}'


def _not_finished(prompt: PromptLine, interrupt: KeyboardInterrupt) -> PromptReport:
    code = ExitCode.TERMINATED if isinstance(interrupt, Terminated) else ExitCode.INTERRUPTED
    message = "not finished: the batch was interrupted (a running job was cancelled)"
    return PromptReport(prompt, failure=Failure(code, type(interrupt).__name__, message))


@dataclass(frozen=True)
class BatchResult:
    """The whole batch, as the command reports it.

    Attributes:
        outcomes: One per prompt, in file order.
        directory: Where the images went.
        interrupted: Ctrl-C (`KeyboardInterrupt`) or SIGTERM (`Terminated`) stopped the batch:
            the prompts it stopped have failures of that class. None when it ran to its end.
    """

    outcomes: tuple[PromptReport, ...]
    directory: Path
    interrupted: KeyboardInterrupt | None = None

    @property
    def failed(self) -> int:
        """The prompts without an image."""
        return sum(outcome.failure is not None for outcome in self.outcomes)

    @property
    def skipped(self) -> int:
        """The prompts whose image was already there (not sent)."""
        return sum(outcome.skipped for outcome in self.outcomes)

    @property
    def succeeded(self) -> int:
        """The prompts whose image this run saved."""
        return len(self.outcomes) - self.failed - self.skipped

    def failed_by_class(self) -> dict[str, int]:
        """How many prompts failed with each error class, most first (then by name)."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if outcome.failure is not None:
                counts[outcome.failure.error] = counts.get(outcome.failure.error, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def to_json(self) -> dict[str, object]:
        """The JSON object printed on stdout in machine-readable mode."""
        return {
            "results": [outcome.to_json() for outcome in self.outcomes],
            "failed": self.failed,
            "succeeded": self.succeeded,
            "skipped": self.skipped,
            "failed_by_class": self.failed_by_class(),
        }

    def summary(self) -> str:
        """The human-readable summary: counts, then one line per failed prompt."""
        total = len(self.outcomes)
        if total == 0:
            return "no prompts in the file: nothing to do"
        lines = [f"{self.succeeded} of {total} images saved in {self.directory}"]
        if self.skipped:
            lines[0] += f", {self.skipped} skipped (already there)"
        if self.interrupted is not None:
            lines[0] = f"interrupted: {lines[0]}"
        if self.failed:
            by_class = self.failed_by_class()
            unfinished = sum(by_class.pop(name, 0) for name in _INTERRUPTS)
            counts = [f"{self.failed - unfinished} failed"] if self.failed > unfinished else []
            if len(by_class) > 1:  # each line says why; with several reasons, how many each
                counts[0] += f" ({', '.join(f'{n} {name}' for name, n in by_class.items())})"
            counts += [f"{unfinished} not finished"] if unfinished else []
            lines[0] += f"; {', '.join(counts)}:"
            lines.extend(
                f"  {outcome.failure_line()}"
                for outcome in self.outcomes
                if outcome.failure is not None
            )
        return "\n".join(lines)

    def failure(self) -> Failure | None:
        """How the command fails, or None when every prompt has its image.

        When every prompt failed the same way (same class), the command exits with that
        class's code; otherwise with `ExitCode.BATCH_INCOMPLETE`.
        """
        failures = [outcome.failure for outcome in self.outcomes if outcome.failure is not None]
        if not failures:
            return None
        total = len(self.outcomes)
        classes = {failure.error for failure in failures}
        if len(failures) == total and len(classes) == 1:
            first = failures[0]
            message = f"all {total} prompts failed ({first.error}); the first: {first.message}"
            return Failure(first.exit_code, first.error, message)
        return Failure(
            ExitCode.BATCH_INCOMPLETE,
            "BatchIncomplete",
            f"{len(failures)} of {total} prompts failed",
        )


@dataclass
class _Progress:
    """The batch's outcomes so far, by prompt index, shared by its jobs (all on one loop)."""

    total: int
    outcomes: dict[int, PromptReport] = field(default_factory=lambda: {})
    failed: int = 0


def run_batch(
    options: BatchOptions,
    *,
    context: ErrorContext,
    live: bool,
    stream: IO[str] | None = None,
) -> BatchResult:
    """Run every prompt of the file and save each image as soon as it completes.

    Args:
        options: The parsed command line.
        context: For the one-line message of each failure (`describe`).
        live: Show the progress bar on ``stream``.
        stream: The terminal stream for the display; defaults to stderr.

    Returns:
        Each prompt's outcome; the prompts whose image the directory's manifest vouches for
        are skipped (not sent). After Ctrl-C or SIGTERM, `BatchResult.interrupted` is set and
        the jobs that were still running have been cancelled on the Space.

    Raises:
        UsageError: The prompt file cannot be read, or ``--url local`` without Gradio.
        InvalidRequestError: A value is out of range (nothing was contacted or started).
        OutputError: The output directory cannot be created, or its manifest read.
        LocalSpaceError: The local Space did not start.
        KeyboardInterrupt: Ctrl-C before the batch started (while the local Space starts).
    """
    prompts = read_prompts(options.file)
    # The options are the same for every prompt: a bad value fails here, before any I/O.
    jobs = [(prompt, request_for(prompt.prompt, options)) for prompt in prompts]
    directory = Path(options.output).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"cannot create the directory {directory}: {reason}; choose another with -o"
        ) from exc
    if not jobs:
        return BatchResult(outcomes=(), directory=directory)
    manifest = Manifest(directory)
    skipped = _already_there(manifest, jobs, options)
    to_run = [(prompt, request) for prompt, request in jobs if prompt.index not in skipped]
    progress = _Progress(total=len(to_run))
    interrupted: KeyboardInterrupt | None = None
    if to_run:
        if options.url == LOCAL:
            require_gradio()
        with ExitStack() as stack:
            display = open_display(live=live, stream=stream or sys.stderr)
            if skipped:
                display.log(
                    f"skipping {len(skipped)} prompts whose images are already in {directory} "
                    f"({MANIFEST_NAME})",
                    "info",
                )
            url = open_session(stack, display, options)
            batch = _Batch(url, options, context, directory, display, progress, manifest)
            try:
                with signals_restored():
                    interrupted = anyio.run(_run_jobs, batch, to_run)
            except KeyboardInterrupt as exc:
                # Where the loop cannot listen for signals (Windows), Ctrl-C cancels the whole
                # run, the jobs with it (on the Space too), and arrives here.
                interrupted = exc
    outcomes: list[PromptReport] = []
    for prompt, _ in jobs:
        outcome = skipped.get(prompt.index) or progress.outcomes.get(prompt.index)
        if outcome is None:  # only when interrupted: the job was cancelled
            outcome = _not_finished(prompt, interrupted or KeyboardInterrupt())
        outcomes.append(outcome)
    return BatchResult(outcomes=tuple(outcomes), directory=directory, interrupted=interrupted)


def _recipe(prompt: PromptLine, request: GenerateRequest, options: BatchOptions) -> Recipe:
    return Recipe.of(prompt.index, request, space=options.space, url=options.url)


def _already_there(
    manifest: Manifest, jobs: list[tuple[PromptLine, GenerateRequest]], options: BatchOptions
) -> dict[int, PromptReport]:
    """The skipped outcome of each prompt, by index, whose image the manifest vouches for.

    Raises:
        OutputError: The manifest is there but cannot be read.
    """
    try:
        manifest.load()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot read {manifest.path}: {reason}; choose another -o") from exc
    skipped: dict[int, PromptReport] = {}
    for prompt, request in jobs:
        entry = manifest.complete(_recipe(prompt, request, options), prompt.filename)
        if entry is not None:
            path = manifest.directory / entry.file
            skipped[prompt.index] = PromptReport(
                prompt, path=path, seed=entry.used_seed, skipped=True
            )
    return skipped


@dataclass(frozen=True)
class _Batch:
    """What every job of the batch needs."""

    url: str
    options: BatchOptions
    context: ErrorContext
    directory: Path
    display: Display
    progress: _Progress
    manifest: Manifest

    def saved(
        self, prompt: PromptLine, request: GenerateRequest, path: Path, seed: int
    ) -> PromptReport:
        """The outcome of a prompt whose image is at ``path``, once the manifest records it.

        Without its line the image would be made again by a re-run, so a manifest that cannot
        be written fails the prompt.
        """
        try:
            self.manifest.record(_recipe(prompt, request, self.options), path, seed)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            where = self.manifest.path
            error = OutputError(f"cannot record {path.name} in {where}: {reason}")
            return self.failed(prompt, error)
        return PromptReport(prompt, path=path, seed=seed)

    def finish(self, outcome: PromptReport) -> None:
        """Record ``outcome``, print its line above the bar, and advance the bar."""
        progress = self.progress
        progress.outcomes[outcome.prompt.index] = outcome
        if outcome.failure is not None:
            progress.failed += 1
            self.display.log(f"failed: {outcome.failure_line()}", "error")
        else:
            self.display.log(f"saved {outcome.path} (seed {outcome.seed})", "info")
        self.display.progress(len(progress.outcomes), progress.total, progress.failed)

    def failed(self, prompt: PromptLine, exc: Exception) -> PromptReport:
        """The outcome of a prompt that failed with ``exc``, described as the CLI does."""
        failure = describe(exc, self.context)
        if failure is None:  # pragma: no cover  (only the SDK's errors and ours get here)
            raise exc
        return PromptReport(prompt, failure=failure)


async def _run_jobs(
    batch: _Batch, jobs: list[tuple[PromptLine, GenerateRequest]]
) -> KeyboardInterrupt | None:
    """Run the jobs, ``concurrency`` at a time, until all finish or a signal cancels them.

    Returns:
        The interrupt that stopped the batch (`Terminated` for SIGTERM), or None.
    """
    options = batch.options
    caught: list[KeyboardInterrupt] = []
    limiter = anyio.CapacityLimiter(options.concurrency)

    async with client_for(batch.url, options) as client:

        async def run_one(prompt: PromptLine, request: GenerateRequest) -> None:
            path = batch.directory / prompt.filename
            async with limiter:
                try:
                    generation = await client.generate(request)
                    await client.save(generation, path)
                except FluxError as exc:
                    outcome = batch.failed(prompt, exc)
                except OSError as exc:
                    reason = exc.strerror or str(exc)
                    error = OutputError(f"cannot write {path}: {reason}; choose another -o")
                    outcome = batch.failed(prompt, error)
                else:
                    outcome = batch.saved(prompt, request, path, generation.seed)
            batch.finish(outcome)

        def cancelling() -> None:
            batch.display.status("cancelling the running jobs")

        batch.display.progress(0, batch.progress.total, 0)
        async with anyio.create_task_group() as group:
            # Ctrl-C and SIGTERM cancel the jobs' scope: each job is cancelled on the Space as
            # it unwinds, and the partial result is returned, to be printed.
            await group.start(watch_signals, group.cancel_scope, caught, cancelling)
            async with anyio.create_task_group() as jobs_group:
                for prompt, request in jobs:
                    jobs_group.start_soon(run_one, prompt, request)
            group.cancel_scope.cancel()  # every job has finished: stop watching for signals
    return caught[0] if caught else None


def batch_command(options: BatchOptions, mode: OutputMode) -> int:
    """``flux batch``: run the batch, print its summary, and exit as `BatchResult.failure` says.

    Returns:
        0 when every prompt has its image, else the failure's exit code.

    Raises:
        KeyboardInterrupt: The batch was interrupted, after its summary was printed.
    """
    result = run_batch(options, context=options.context(), live=mode.live)
    # The summary comes first, also after Ctrl-C: it says which images were saved.
    if mode.json_result:
        print_json(result.to_json(), sys.stdout)
    else:
        print_line(result.summary(), sys.stdout)
    if result.interrupted is not None:
        raise result.interrupted  # main() reports it and exits 130 (143 for SIGTERM)
    failure = result.failure()
    if failure is None:
        return ExitCode.OK
    report(failure, mode)
    return failure.exit_code
