"""The ``flux`` command: generate images, inspect a Space's API, or serve the local Space.

Example:
    .. code-block:: console

        $ flux generate "a red fox in fresh snow" -o fox.webp --width 768 --height 512 --seed 7
        saved fox.webp (768×512, seed 7)
        $ flux batch prompts.txt -o out/ --concurrency 2 --space flux-dev
        $ flux info --url http://127.0.0.1:7860
        $ flux serve-local --faults

On a terminal ``generate`` and ``batch`` show a live display on stderr; elsewhere they are
quiet until the end. Either way the result is a line for people on stdout and a failure is one
``error:`` line on stderr; with ``--json`` both are JSON objects instead. Each failure has its
own exit code (`flux_sdk._cli._errors.ExitCode`), listed at the end of ``flux --help``.

The modules: `._args` (the parser and each command's options), one module per command
(`._generate`, `._batch`, `._info`, `._serve_local`), `._session`, `._local` and `._signals`
(what ``generate`` and ``batch`` share: the SDK's log on the display, the local Space, Ctrl-C
on their event loop), `._display`, `._output` and `._errors` (exit codes and messages), and
`._process` (a cold process's start and end: no collector passes over the imports, no
interpreter teardown). This package and `._args` import only the standard library and
flux-sdk's light modules, so that ``flux --help`` is fast: each command imports the SDK,
httpx and rich when it runs.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Generator, Sequence
from types import FrameType

from ._args import (
    BatchOptions,
    CommandLineError,
    GenerateOptions,
    InfoOptions,
    JobFlags,
    Options,
    ServeLocalOptions,
    build_parser,
    parse_args,
    parse_command_line,
)
from ._errors import ExitCode, Failure, StartInterrupted, Terminated, describe
from ._output import OutputMode, isatty, print_line, report, warn
from ._process import exit_now, pause_collector, resume_collector

__all__ = ["build_parser", "main", "parse_args", "run"]


def run(options: Options, mode: OutputMode) -> int:
    """Run a parsed command: its options go straight to its runner.

    Returns:
        The exit status.

    Raises:
        Exception: What the command raised; `main` turns it into a message and a status.
    """
    # Each command's module loads here (the SDK, httpx, pydantic, anyio): what it made lives
    # as long as the process, so the collector resumes only now (`._process`).
    if isinstance(options, GenerateOptions):
        from ._generate import generate_command

        resume_collector()
        return generate_command(options, mode)
    if isinstance(options, BatchOptions):
        from ._batch import batch_command

        resume_collector()
        return batch_command(options, mode)
    if isinstance(options, InfoOptions):
        from ._info import info_command

        resume_collector()
        return info_command(options, mode)
    from ._serve_local import serve_local_command

    resume_collector()
    return serve_local_command(options)


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


def _interrupted(exc: KeyboardInterrupt, options: Options) -> Failure:
    """What Ctrl-C or SIGTERM stopped: a job (cancelled on the Space), or only the start."""
    job = isinstance(options, JobFlags)
    if isinstance(exc, StartInterrupted):
        terminated = exc.terminated
        what = "the local Space was still starting and has been stopped"
        if job:
            what += "; nothing was submitted"
    else:
        terminated = isinstance(exc, Terminated)
        what = "any running job was cancelled on the Space" if job else "stopped"
    code = ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED
    name = "Terminated" if terminated else "KeyboardInterrupt"
    return Failure(code, name, f"interrupted: {what}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``flux`` with ``argv`` (default: ``sys.argv[1:]``) and return its exit status.

    Without ``argv`` the process is the command's own (the console script, ``python -m
    flux_sdk._cli``): the garbage collector waits while the command's modules load, and
    once the command is done and its output flushed, the process ends there, without the
    interpreter's teardown (`._process`).

    Args:
        argv: The command line without the program name.

    Returns:
        0 on success, else the `ExitCode` of the failure (130 after Ctrl-C).
    """
    if argv is None:
        pause_collector()
    status = _main(list(sys.argv[1:] if argv is None else argv))
    if argv is None:
        exit_now(status)
    return status


def _main(args: list[str]) -> int:
    stdout_tty, stderr_tty = isatty(sys.stdout), isatty(sys.stderr)
    try:
        options, deprecated = parse_command_line(args)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except CommandLineError as exc:
        mode = OutputMode.detect(
            json_flag="--json" in args, stdout_tty=stdout_tty, stderr_tty=stderr_tty
        )
        if mode.json_errors:
            report(Failure(ExitCode.USAGE, "UsageError", str(exc)), mode)
        else:
            print_line(f"{exc.usage.rstrip()}\n{exc.prog}: error: {exc}", sys.stderr)
        return ExitCode.USAGE
    json_flag = not isinstance(options, ServeLocalOptions) and options.json
    mode = OutputMode.detect(json_flag=json_flag, stdout_tty=stdout_tty, stderr_tty=stderr_tty)
    for message in deprecated:
        warn(message, mode)
    try:
        with _sigterm_as_interrupt():
            return run(options, mode)
    except KeyboardInterrupt as exc:
        stop = _interrupted(exc, options)
        report(stop, mode)
        return stop.exit_code
    except Exception as exc:
        failure = describe(exc, options.context())
        if failure is None:
            raise
        report(failure, mode)
        return failure.exit_code
