"""The ``flux`` command: generate images, inspect a Space's API, or serve the local Space.

Example:
    .. code-block:: console

        $ flux generate "a red fox in fresh snow" -o fox.webp --width 768 --height 512 --seed 7
        saved fox.webp (768×512, seed 7)
        $ flux batch prompts.txt -o out/ --concurrency 2
        $ flux info --space http://127.0.0.1:7860
        $ flux serve-local --faults

On a terminal ``generate`` and ``batch`` show a live display on stderr; elsewhere they are
quiet until the end. Either way the result is a line for people on stdout and a failure is one
``error:`` line on stderr; with ``--json`` both are JSON objects instead. Each failure has its
own exit code (`flux_sdk._cli._errors.ExitCode`), listed at the end of ``flux --help``.

This module imports only the standard library and flux-sdk's light modules, so that
``flux --help`` is fast: each command imports the SDK, httpx and rich when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Generator, Sequence
from dataclasses import dataclass, fields
from types import FrameType
from typing import IO, Any, Literal, NoReturn, cast
from urllib.parse import urlsplit

from .._config import DEFAULT_SPACE, DEFAULT_TIMEOUT, ProtocolName
from .._limits import (
    DEFAULT_SIZE,
    DEV_STEPS,
    DEV_URL,
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    MIN_STEPS,
    SCHNELL_STEPS,
    SCHNELL_URL,
    SIZE_STEP,
)
from .._version import __version__
from ._errors import (
    ErrorContext,
    ExitCode,
    Failure,
    StartInterrupted,
    Terminated,
    UsageError,
    describe,
    exit_codes_text,
)

__all__ = [
    "BatchCommand",
    "GenerateCommand",
    "InfoCommand",
    "JobFlags",
    "OutputMode",
    "ServeLocalCommand",
    "build_parser",
    "main",
    "parse_args",
]

DEFAULT_WIDTH = DEFAULT_SIZE
DEFAULT_HEIGHT = DEFAULT_SIZE
DEFAULT_STEPS = SCHNELL_STEPS
DEFAULT_DEV_STEPS = DEV_STEPS
DEFAULT_CONCURRENCY = 4
SIZE_HELP = f"a multiple of {SIZE_STEP} from {MIN_SIZE} to {MAX_SIZE}"
STEPS_HELP = f"{MIN_STEPS} to {MAX_STEPS}"
SEED_HELP = f"0 to {MAX_SEED}"
PROTOCOLS: tuple[ProtocolName, ...] = ("auto", "queue", "call")
LOCAL = "local"

ModelName = Literal["flux-schnell", "flux-dev"]
MODELS: tuple[ModelName, ...] = ("flux-schnell", "flux-dev")
DEFAULT_MODEL: ModelName = "flux-schnell"
MODEL_SPACES: dict[str, str] = {"flux-schnell": SCHNELL_URL, "flux-dev": DEV_URL}


@dataclass(frozen=True, kw_only=True)
class JobFlags:
    """The flags ``generate`` and ``batch`` share (see `_add_job_options`).

    Attributes:
        width: Image width.
        height: Image height.
        steps: Inference steps; None for the model's default (4, or 28 for flux-dev).
        seed: ``--seed``; None randomizes the seed (each prompt's, in a batch) on the Space.
        space: A Space URL, or ``"local"``.
        token: ``--token``; None falls back to ``HF_TOKEN``.
        protocol: ``auto``, ``queue`` or ``call``.
        timeout: Seconds for each job; None for the SDK's default.
        json: Machine-readable output.
        verbose: Show the SDK's log (requests, retries, the cancel) on the live display.
        model: ``flux-schnell`` or ``flux-dev``: which kind of Space (the client's ``space=``).
        guidance: ``--guidance`` (flux-dev only); None for the Space's default.
        wait_on_quota: Wait out a ZeroGPU quota error and try again.
        step_delay: ``--step-delay`` (``--space local`` only): seconds per step on the local
            Space; None for its default.
    """

    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    steps: int | None = None
    seed: int | None = None
    space: str = DEFAULT_SPACE
    token: str | None = None
    protocol: ProtocolName = "auto"
    timeout: float | None = None
    json: bool = False
    verbose: bool = False
    model: ModelName = DEFAULT_MODEL
    guidance: float | None = None
    wait_on_quota: bool = False
    step_delay: float | None = None


@dataclass(frozen=True, kw_only=True)
class GenerateCommand(JobFlags):
    """``flux generate``'s arguments, with the `JobFlags`.

    Attributes:
        prompt: The text prompt.
        output: ``-o``: a file or a directory; None for ``flux-<seed>.webp``.
    """

    prompt: str
    output: str | None = None


@dataclass(frozen=True, kw_only=True)
class BatchCommand(JobFlags):
    """``flux batch``'s arguments, with the `JobFlags`.

    Attributes:
        file: The prompt file, one prompt a line; ``-`` for stdin.
        output: ``-o``: the directory the images go to (created if missing).
        concurrency: Jobs in flight at once.
    """

    file: str
    output: str
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass(frozen=True)
class InfoCommand:
    """``flux info``'s arguments.

    Attributes:
        space: A Space URL, or ``"local"``.
        token: ``--token``; None falls back to ``HF_TOKEN``.
        json: Machine-readable output.
        model: Compare with what flux-sdk sends to ``flux-schnell`` or ``flux-dev``.
    """

    space: str = DEFAULT_SPACE
    token: str | None = None
    json: bool = False
    model: ModelName = DEFAULT_MODEL


@dataclass(frozen=True)
class ServeLocalCommand:
    """``flux serve-local``'s arguments.

    Attributes:
        port: Port on 127.0.0.1; None picks a free one.
        faults: Enable the prompt fault tags.
        model: Which Space's API the replica serves: ``flux-schnell`` or ``flux-dev``.
        step_delay: Seconds per inference step; None for the local Space's default.
    """

    port: int | None = None
    faults: bool = False
    model: ModelName = DEFAULT_MODEL
    step_delay: float | None = None


Command = GenerateCommand | BatchCommand | InfoCommand | ServeLocalCommand


@dataclass(frozen=True)
class OutputMode:
    """Where results and errors go, and in which form.

    Attributes:
        json_result: Print the result as one JSON object on stdout (else a line for people).
        json_errors: Print errors as one JSON object on stderr (else an ``error:`` line).
        live: Show the live display on stderr.
    """

    json_result: bool
    json_errors: bool
    live: bool

    @classmethod
    def detect(cls, *, json_flag: bool, stdout_tty: bool, stderr_tty: bool) -> OutputMode:
        """The mode for ``--json`` and the streams: JSON only when asked, the display on a terminal.

        Output that is not a terminal (a pipe, a CI log) gets the same lines as a terminal, so
        that what a person reads there makes sense; scripts ask for ``--json``. ``stdout_tty``
        is kept for callers and changes nothing.

        Example:
            >>> OutputMode.detect(json_flag=False, stdout_tty=False, stderr_tty=True).json_result
            False
        """
        del stdout_tty
        return cls(json_result=json_flag, json_errors=json_flag, live=not json_flag and stderr_tty)


class CommandLineError(UsageError):
    """argparse refused the command line; keeps the usage line for the human message."""

    def __init__(self, message: str, usage: str, prog: str) -> None:
        super().__init__(message)
        self.usage = usage
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing and exiting, so errors can be JSON."""

    def error(self, message: str) -> NoReturn:
        raise CommandLineError(message, self.format_usage(), self.prog)


def _space(value: str) -> str:
    """``--space``: ``local`` or an http(s) URL."""
    if value == LOCAL:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"expected an http(s) URL or 'local', got {value!r}")
    return value.rstrip("/")


def _seconds(value: str) -> float:
    """``--timeout``: a positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def _delay(value: str) -> float:
    """``--step-delay``: zero or a positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, got {value!r}")
    return seconds


def _add_step_delay(parser: argparse.ArgumentParser, *, what: str) -> None:
    parser.add_argument(
        "--step-delay",
        type=_delay,
        metavar="SECONDS",
        help=f"{what}seconds the local Space spends on each inference step, to watch the "
        "progress (default: the local Space's)",
    )


def _port(value: str) -> int:
    """``--port``: 1 to 65535."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {port}")
    return port


def _count(value: str) -> int:
    """``--concurrency``: a whole number from 1."""
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a number from 1, got {count}")
    return count


def _add_space_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--space",
        type=_space,
        metavar="URL|local",
        help="the Space's URL, or 'local' to start the local Space for this command "
        "(needs the [local] extra) (default: the --model's public Space)",
    )
    parser.add_argument(
        "--model",
        choices=MODELS,
        default=DEFAULT_MODEL,
        help="which kind of Space: FLUX.1-schnell or FLUX.1-dev (default: %(default)s)",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="Hugging Face token, sent to the Space only (default: $HF_TOKEN)",
    )


def _add_job_options(parser: argparse.ArgumentParser, *, seed_help: str, timeout_help: str) -> None:
    """The `JobFlags` options: the request, the Space, the output mode."""
    parser.add_argument("--seed", type=int, metavar="N", help=seed_help)
    parser.add_argument(
        "--width", type=int, default=DEFAULT_WIDTH, metavar="N", help=f"{SIZE_HELP} (default: 1024)"
    )
    parser.add_argument(
        "--height",
        type=int,
        default=DEFAULT_HEIGHT,
        metavar="N",
        help=f"{SIZE_HELP} (default: 1024)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help=f"inference steps, {STEPS_HELP} (default: {DEFAULT_STEPS}, "
        f"or {DEFAULT_DEV_STEPS} with --model flux-dev)",
    )
    parser.add_argument(
        "--guidance",
        type=float,
        metavar="X",
        help="guidance scale, --model flux-dev only (default: the Space's, 3.5)",
    )
    _add_space_options(parser)
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="auto",
        help="Gradio protocol: queue (progress, notices, error text), call (/call/ API), "
        "auto (default: queue)",
    )
    parser.add_argument("--timeout", type=_seconds, metavar="SECONDS", help=timeout_help)
    parser.add_argument(
        "--wait-on-quota",
        action="store_true",
        help="when ZeroGPU's quota is used up, wait the time the Space names and try again "
        "(within --timeout) instead of failing",
    )
    _add_step_delay(parser, what="with --space local: ")
    parser.add_argument("--json", action="store_true", help="machine-readable output only")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="on a terminal, also show the SDK's log: requests, retries, the cancel",
    )


_SEE_EXIT_CODES = "Exit statuses: see flux --help."


def build_parser() -> argparse.ArgumentParser:
    """The ``flux`` argument parser (standard library only: fast to build).

    Returns:
        The parser; its errors raise `CommandLineError` rather than exiting.
    """
    parser = _Parser(
        prog="flux",
        description="Generate images with FLUX.1-schnell or FLUX.1-dev on a Hugging Face Space.",
        epilog=f"{exit_codes_text()}\n\n"
        "Each command prints a line for people; with --json, one JSON object instead\n"
        "(the result on stdout, a failure on stderr). flux COMMAND --help lists its options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flux-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    generate = commands.add_parser(
        "generate",
        help="generate one image and save it",
        description="Generate one image and save it. On a terminal, shows the queue position, "
        "ETA, step progress and the Space's notices. Ends with a line such as "
        "'saved fox.webp (768×512, seed 7)'; with --json, one JSON object instead.",
        epilog=_SEE_EXIT_CODES,
    )
    generate.add_argument("prompt", metavar="PROMPT", help="what to draw")
    generate.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to save the image: FILE.webp as the Space sends it, FILE.png or FILE.jpg "
        "converted (needs the [pil] extra), or a directory (created if it ends with /); "
        "missing parent directories are created (default: flux-<seed>.webp)",
    )
    _add_job_options(
        generate,
        seed_help=f"seed, {SEED_HELP} (default: a random seed chosen by the Space)",
        timeout_help="time limit for the whole job (default: 600)",
    )
    generate.set_defaults(command_parser=generate)

    batch = commands.add_parser(
        "batch",
        help="generate one image per line of a prompt file",
        description="Generate one image per prompt of FILE (one prompt a line; blank lines and "
        "lines starting with # are skipped), --concurrency at a time, and save each as "
        "DIR/NNNN-<slug>.webp as soon as it is done. On a terminal, shows a progress bar and "
        "a summary of the failures; with --json, one JSON object instead. Exits with "
        "status 19 when some prompts failed.",
        epilog=_SEE_EXIT_CODES,
    )
    batch.add_argument("file", metavar="FILE", help="the prompt file, or - for stdin")
    batch.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        required=True,
        help="the directory for the images (created if missing)",
    )
    batch.add_argument(
        "--concurrency",
        type=_count,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help="jobs in flight at once (default: %(default)s)",
    )
    _add_job_options(
        batch,
        seed_help=f"seed for every prompt, {SEED_HELP} (default: a random seed for each)",
        timeout_help="time limit for each job (default: 600)",
    )
    batch.set_defaults(command_parser=batch)

    info = commands.add_parser(
        "info",
        help="show the Space's live API and compare it with flux-sdk's",
        description="Show the Space's Gradio version, API prefix, fn_index and infer "
        "parameters with their limits, and compare them with what flux-sdk sends to the "
        "--model's Space. Exits with status 3 when they differ.",
        epilog=_SEE_EXIT_CODES,
    )
    _add_space_options(info)
    info.add_argument("--json", action="store_true", help="machine-readable output only")
    info.set_defaults(command_parser=info)

    serve = commands.add_parser(
        "serve-local",
        help="run the local Space (a Gradio replica) on 127.0.0.1 until Ctrl-C",
        description="Run the local Space, a real Gradio app with the --model's Space's API "
        "that draws a placeholder image, on 127.0.0.1 until Ctrl-C. Prints its URL on stdout. "
        "Needs the [local] extra.",
        epilog=_SEE_EXIT_CODES,
    )
    serve.add_argument("--port", type=_port, metavar="N", help="port (default: a free one)")
    serve.add_argument(
        "--model",
        choices=MODELS,
        default=DEFAULT_MODEL,
        help="serve the API of FLUX.1-schnell or FLUX.1-dev (guidance, 28 steps) "
        "(default: %(default)s)",
    )
    _add_step_delay(serve, what="")
    serve.add_argument(
        "--faults",
        action="store_true",
        help="enable the prompt fault tags: [error] [quota] [gpu] [crash] [slow] [info]",
    )
    serve.set_defaults(command_parser=serve)
    return parser


def parse_args(argv: Sequence[str]) -> Command:
    """Parse a ``flux`` command line (without the program name).

    Raises:
        CommandLineError: The command line is wrong.
        SystemExit: ``--help`` or ``--version`` was printed.

    Example:
        >>> parse_args(["generate", "a fox", "--seed", "7"]).seed
        7
    """
    namespace = build_parser().parse_args(list(argv))
    values = cast("dict[str, object]", vars(namespace))
    command = values.pop("command")
    subparser = cast("argparse.ArgumentParser", values.pop("command_parser"))
    if "model" in values:
        if values.get("guidance") is not None and values["model"] != "flux-dev":
            subparser.error("--guidance needs --model flux-dev (FLUX.1-schnell has no guidance)")
        if values.get("step_delay") is not None and values.get("space", LOCAL) != LOCAL:
            subparser.error("--step-delay needs --space local (it slows the local Space)")
        if values.get("space", LOCAL) is None:
            values["space"] = MODEL_SPACES[str(values["model"])]
    if command == "generate":
        return GenerateCommand(**values)  # type: ignore[arg-type]
    if command == "batch":
        return BatchCommand(**values)  # type: ignore[arg-type]
    if command == "info":
        return InfoCommand(**values)  # type: ignore[arg-type]
    return ServeLocalCommand(**values)  # type: ignore[arg-type]


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _print(text: str, stream: IO[str]) -> None:
    # BrokenPipeError: the reader went away (``flux ... | head``); nothing left to tell it.
    with contextlib.suppress(BrokenPipeError):
        print(text, file=stream, flush=True)


def report(failure: Failure, mode: OutputMode) -> None:
    """Write ``failure`` to stderr: one JSON object, or one ``error:`` line."""
    if mode.json_errors:
        _print(json.dumps(failure.to_json(), ensure_ascii=False), sys.stderr)
    else:
        _print(f"error: {failure.message}", sys.stderr)


def _context(command: Command) -> ErrorContext:
    if isinstance(command, ServeLocalCommand):
        return ErrorContext(space=LOCAL)
    token = command.token if command.token is not None else os.environ.get("HF_TOKEN")
    if isinstance(command, InfoCommand):
        return ErrorContext(space=command.space, token=bool(token))
    return ErrorContext(
        space=command.space,
        protocol=command.protocol,
        token=bool(token),
        wait_on_quota=command.wait_on_quota,
        timeout=command.timeout if command.timeout is not None else DEFAULT_TIMEOUT.total,
    )


def _job_options(command: JobFlags) -> dict[str, Any]:
    """The `JobFlags` that `JobOptions` takes, as keyword arguments (all but ``--json``)."""
    from ._generate import JobOptions

    return {field.name: getattr(command, field.name) for field in fields(JobOptions)}


def _command_generate(command: GenerateCommand, mode: OutputMode) -> int:
    from ._generate import GenerateOptions, run_generate

    saved = run_generate(
        GenerateOptions(prompt=command.prompt, output=command.output, **_job_options(command)),
        live=mode.live,
    )
    if mode.json_result:
        _print(json.dumps(saved.to_json(), ensure_ascii=False), sys.stdout)
    else:
        _print(saved.summary(), sys.stdout)
    return ExitCode.OK


def _command_batch(command: BatchCommand, mode: OutputMode) -> int:
    from ._batch import BatchOptions, run_batch

    result = run_batch(
        BatchOptions(
            file=command.file,
            output=command.output,
            concurrency=command.concurrency,
            **_job_options(command),
        ),
        context=_context(command),
        live=mode.live,
    )
    # The summary comes first, also after Ctrl-C: it says which images were saved.
    if mode.json_result:
        _print(json.dumps(result.to_json(), ensure_ascii=False), sys.stdout)
    else:
        _print(result.summary(), sys.stdout)
    if result.interrupted is not None:
        raise result.interrupted  # main() reports it and exits 130 (143 for SIGTERM)
    failure = result.failure()
    if failure is None:
        return ExitCode.OK
    report(failure, mode)
    return failure.exit_code


def _command_info(command: InfoCommand, mode: OutputMode) -> int:
    from contextlib import ExitStack

    from .._spaces import resolve_space
    from ._info import compare, expected_parameters, fetch_space_api, render_text, to_json
    from ._local import require_gradio, start_local_space

    with ExitStack() as stack:
        url = command.space
        if url == LOCAL:
            require_gradio()
            url = start_local_space(stack, model=command.model).url
        api = fetch_space_api(url, token=command.token)
    mismatches = compare(api.parameters, expected_parameters(resolve_space(command.model)))
    if mode.json_result:
        _print(json.dumps(to_json(api, mismatches), ensure_ascii=False), sys.stdout)
    else:
        _print(render_text(api, mismatches), sys.stdout)
    if not mode.json_errors:
        for mismatch in mismatches:
            _print(f"warning: {mismatch.message}", sys.stderr)
    return ExitCode.API_MISMATCH if mismatches else ExitCode.OK


def _command_serve_local(command: ServeLocalCommand) -> int:
    from ._local import serve_local

    return serve_local(
        port=command.port,
        faults=command.faults,
        model=command.model,
        step_delay=command.step_delay,
    )


def run(command: Command, mode: OutputMode) -> int:
    """Run a parsed command.

    Returns:
        The exit status.

    Raises:
        Exception: What the command raised; `main` turns it into a message and a status.
    """
    if isinstance(command, GenerateCommand):
        return _command_generate(command, mode)
    if isinstance(command, BatchCommand):
        return _command_batch(command, mode)
    if isinstance(command, InfoCommand):
        return _command_info(command, mode)
    return _command_serve_local(command)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Generator[None, None, None]:
    """While a command runs, SIGTERM unwinds it like Ctrl-C: the job and local Space stop.

    Python's default for SIGTERM is to die at once, which would leave a job running on the
    Space and a local Space's server process behind.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(exc: KeyboardInterrupt, command: Command) -> Failure:
    """What Ctrl-C or SIGTERM stopped: a job (cancelled on the Space), or only the start."""
    if isinstance(exc, StartInterrupted):
        terminated = exc.terminated
        what = "the local Space was still starting and has been stopped"
        if isinstance(command, GenerateCommand | BatchCommand):
            what += "; nothing was submitted"
    else:
        terminated = isinstance(exc, Terminated)
        what = "stopped"
        if isinstance(command, GenerateCommand | BatchCommand):
            what = "any running job was cancelled on the Space"
    code = ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED
    name = "Terminated" if terminated else "KeyboardInterrupt"
    return Failure(code, name, f"interrupted: {what}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``flux`` with ``argv`` (default: ``sys.argv[1:]``) and return its exit status.

    Args:
        argv: The command line without the program name.

    Returns:
        0 on success, else the `ExitCode` of the failure (130 after Ctrl-C).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    stdout_tty, stderr_tty = _isatty(sys.stdout), _isatty(sys.stderr)
    try:
        command = parse_args(args)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except CommandLineError as exc:
        mode = OutputMode.detect(
            json_flag="--json" in args, stdout_tty=stdout_tty, stderr_tty=stderr_tty
        )
        if mode.json_errors:
            report(Failure(ExitCode.USAGE, "UsageError", str(exc)), mode)
        else:
            _print(f"{exc.usage.rstrip()}\n{exc.prog}: error: {exc}", sys.stderr)
        return ExitCode.USAGE
    json_flag = not isinstance(command, ServeLocalCommand) and command.json
    mode = OutputMode.detect(json_flag=json_flag, stdout_tty=stdout_tty, stderr_tty=stderr_tty)
    try:
        with _sigterm_as_interrupt():
            return run(command, mode)
    except KeyboardInterrupt as exc:
        stop = _interrupted(exc, command)
        report(stop, mode)
        return stop.exit_code
    except Exception as exc:
        failure = describe(exc, _context(command))
        if failure is None:
            raise
        report(failure, mode)
        return failure.exit_code
