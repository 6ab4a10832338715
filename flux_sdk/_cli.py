"""The ``flux`` command: generate an image, inspect a Space's API, or serve the local Space.

Example:
    .. code-block:: console

        $ flux generate "a red fox in fresh snow" -o fox.webp --width 768 --height 512 --seed 7
        saved fox.webp (768×512, seed 7)
        $ flux info --space http://127.0.0.1:7860
        $ flux serve-local --faults

On a terminal ``generate`` shows a live display on stderr; when stdout is not a terminal, or
with ``--json``, it prints one JSON object instead, and errors become JSON on stderr. Each
failure has its own exit code (`flux_sdk._cli_errors.ExitCode`; the table is in docs/cli.md).

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
from dataclasses import dataclass
from types import FrameType
from typing import IO, NoReturn, cast
from urllib.parse import urlsplit

from ._cli_errors import ErrorContext, ExitCode, Failure, Terminated, UsageError, describe
from ._config import DEFAULT_SPACE, ProtocolName
from ._version import __version__

__all__ = [
    "GenerateCommand",
    "InfoCommand",
    "OutputMode",
    "ServeLocalCommand",
    "build_parser",
    "main",
    "parse_args",
]

# The Space's UI defaults and limits, repeated here for the help text only: importing
# flux_sdk._models would import pydantic. tests/cli checks that they agree.
DEFAULT_WIDTH = 1024
DEFAULT_HEIGHT = 1024
DEFAULT_STEPS = 4
SIZE_HELP = "a multiple of 32 from 256 to 2048"
STEPS_HELP = "1 to 50"
SEED_HELP = "0 to 2147483647"
PROTOCOLS: tuple[ProtocolName, ...] = ("auto", "queue", "call")
LOCAL = "local"


@dataclass(frozen=True)
class GenerateCommand:
    """``flux generate``'s arguments.

    Attributes:
        prompt: The text prompt.
        output: ``-o``: a file or a directory; None for ``flux-<seed>.webp``.
        width: Image width.
        height: Image height.
        steps: Inference steps.
        seed: ``--seed``; None randomizes the seed on the Space.
        space: A Space URL, or ``"local"``.
        token: ``--token``; None falls back to ``HF_TOKEN``.
        protocol: ``auto``, ``queue`` or ``call``.
        timeout: Seconds for the whole job; None for the SDK's default.
        json: Machine-readable output.
        verbose: Show the SDK's log (requests, retries, the cancel) on the live display.
    """

    prompt: str
    output: str | None = None
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    steps: int = DEFAULT_STEPS
    seed: int | None = None
    space: str = DEFAULT_SPACE
    token: str | None = None
    protocol: ProtocolName = "auto"
    timeout: float | None = None
    json: bool = False
    verbose: bool = False


@dataclass(frozen=True)
class InfoCommand:
    """``flux info``'s arguments.

    Attributes:
        space: A Space URL, or ``"local"``.
        token: ``--token``; None falls back to ``HF_TOKEN``.
        json: Machine-readable output.
    """

    space: str = DEFAULT_SPACE
    token: str | None = None
    json: bool = False


@dataclass(frozen=True)
class ServeLocalCommand:
    """``flux serve-local``'s arguments.

    Attributes:
        port: Port on 127.0.0.1; None picks a free one.
        faults: Enable the prompt fault tags.
    """

    port: int | None = None
    faults: bool = False


Command = GenerateCommand | InfoCommand | ServeLocalCommand


@dataclass(frozen=True)
class OutputMode:
    """Where results and errors go, and in which form.

    Attributes:
        json_result: Print the result as one JSON object on stdout.
        json_errors: Print errors as one JSON object on stderr.
        live: Show the live display on stderr.
    """

    json_result: bool
    json_errors: bool
    live: bool

    @classmethod
    def detect(cls, *, json_flag: bool, stdout_tty: bool, stderr_tty: bool) -> OutputMode:
        """The mode for ``--json`` and the two streams: anything not a terminal gets JSON.

        Example:
            >>> OutputMode.detect(json_flag=False, stdout_tty=False, stderr_tty=True).live
            True
        """
        return cls(
            json_result=json_flag or not stdout_tty,
            json_errors=json_flag or not stderr_tty,
            live=not json_flag and stderr_tty,
        )


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


def _port(value: str) -> int:
    """``--port``: 1 to 65535."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {port}")
    return port


def _add_space_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--space",
        type=_space,
        default=DEFAULT_SPACE,
        metavar="URL|local",
        help="the Space's URL, or 'local' to start the local Space for this command "
        "(needs the [local] extra) (default: %(default)s)",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="Hugging Face token, sent to the Space only (default: $HF_TOKEN)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``flux`` argument parser (standard library only: fast to build).

    Returns:
        The parser; its errors raise `CommandLineError` rather than exiting.
    """
    parser = _Parser(
        prog="flux",
        description="Generate images with FLUX.1-schnell on a Hugging Face Space.",
        epilog="Exit codes and output formats: see docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"flux-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    generate = commands.add_parser(
        "generate",
        help="generate one image and save it",
        description="Generate one image and save it. On a terminal, shows the queue position, "
        "ETA, step progress and the Space's notices; otherwise prints one JSON object.",
    )
    generate.add_argument("prompt", metavar="PROMPT", help="what to draw")
    generate.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to save the image, a file or a directory (default: flux-<seed>.webp)",
    )
    generate.add_argument(
        "--width", type=int, default=DEFAULT_WIDTH, metavar="N", help=f"{SIZE_HELP} (default: 1024)"
    )
    generate.add_argument(
        "--height",
        type=int,
        default=DEFAULT_HEIGHT,
        metavar="N",
        help=f"{SIZE_HELP} (default: 1024)",
    )
    generate.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        metavar="N",
        help=f"inference steps, {STEPS_HELP} (default: 4)",
    )
    generate.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help=f"seed, {SEED_HELP} (default: a random seed chosen by the Space)",
    )
    _add_space_options(generate)
    generate.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="auto",
        help="Gradio protocol: queue (progress, notices, error text), call (/call/ API), "
        "auto (default: queue)",
    )
    generate.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="time limit for the whole job (default: 600)",
    )
    generate.add_argument("--json", action="store_true", help="machine-readable output only")
    generate.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="on a terminal, also show the SDK's log: requests, retries, the cancel",
    )

    info = commands.add_parser(
        "info",
        help="show the Space's live API and compare it with flux-sdk's",
        description="Show the Space's Gradio version, API prefix, fn_index and infer "
        "parameters with their limits, and compare them with what flux-sdk sends. "
        "Exits with status 3 when they differ.",
    )
    _add_space_options(info)
    info.add_argument("--json", action="store_true", help="machine-readable output only")

    serve = commands.add_parser(
        "serve-local",
        help="run the local Space (a Gradio replica) on 127.0.0.1 until Ctrl-C",
        description="Run the local Space, a real Gradio app with the Space's API that draws "
        "a placeholder image, on 127.0.0.1 until Ctrl-C. Prints its URL on stdout. "
        "Needs the [local] extra.",
    )
    serve.add_argument("--port", type=_port, metavar="N", help="port (default: a free one)")
    serve.add_argument(
        "--faults",
        action="store_true",
        help="enable the prompt fault tags: [error] [quota] [gpu] [crash] [slow] [info]",
    )
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
    if command == "generate":
        return GenerateCommand(**values)  # type: ignore[arg-type]
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
    protocol = command.protocol if isinstance(command, GenerateCommand) else "auto"
    return ErrorContext(space=command.space, protocol=protocol, token=bool(token))


def _generate(command: GenerateCommand, mode: OutputMode) -> int:
    from ._cli_generate import GenerateOptions, run_generate

    saved = run_generate(
        GenerateOptions(
            prompt=command.prompt,
            output=command.output,
            width=command.width,
            height=command.height,
            steps=command.steps,
            seed=command.seed,
            space=command.space,
            token=command.token,
            protocol=command.protocol,
            timeout=command.timeout,
            verbose=command.verbose,
        ),
        live=mode.live,
    )
    if mode.json_result:
        _print(json.dumps(saved.to_json(), ensure_ascii=False), sys.stdout)
        return ExitCode.OK
    _print(saved.summary(), sys.stdout)
    if saved.path.suffix.lower() != ".webp" and not mode.json_errors:
        _print(f"note: the Space sends WebP images; {saved.path} holds WebP data", sys.stderr)
    return ExitCode.OK


def _info(command: InfoCommand, mode: OutputMode) -> int:
    from contextlib import ExitStack

    from ._cli_info import compare, fetch_space_api, render_text, to_json
    from ._cli_local import require_gradio, start_local_space

    with ExitStack() as stack:
        url = command.space
        if url == LOCAL:
            require_gradio()
            url = start_local_space(stack).url
        api = fetch_space_api(url, token=command.token)
    mismatches = compare(api.parameters)
    if mode.json_result:
        _print(json.dumps(to_json(api, mismatches), ensure_ascii=False), sys.stdout)
    else:
        _print(render_text(api, mismatches), sys.stdout)
    if not mode.json_errors:
        for mismatch in mismatches:
            _print(f"warning: {mismatch.message}", sys.stderr)
    return ExitCode.API_MISMATCH if mismatches else ExitCode.OK


def _serve_local(command: ServeLocalCommand) -> int:
    from ._cli_local import serve_local

    return serve_local(port=command.port, faults=command.faults)


def run(command: Command, mode: OutputMode) -> int:
    """Run a parsed command.

    Returns:
        The exit status.

    Raises:
        Exception: What the command raised; `main` turns it into a message and a status.
    """
    if isinstance(command, GenerateCommand):
        return _generate(command, mode)
    if isinstance(command, InfoCommand):
        return _info(command, mode)
    return _serve_local(command)


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
        code = ExitCode.TERMINATED if isinstance(exc, Terminated) else ExitCode.INTERRUPTED
        what = "any running job was cancelled on the Space"
        if not isinstance(command, GenerateCommand):
            what = "stopped"
        report(Failure(code, type(exc).__name__, f"interrupted: {what}"), mode)
        return code
    except Exception as exc:
        failure = describe(exc, _context(command))
        if failure is None:
            raise
        report(failure, mode)
        return failure.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
