"""The ``flux`` command line: the parser, and one frozen options object per command.

Each flag is declared once in `build_parser`, with its options field's name as its ``dest``;
`parse_args` hands argparse's values to the command's options class as they are. Adding a flag
is one ``add_argument`` here and one field in its options class (a missing or extra name fails
every test that parses a command line).

The names are the SDK's: ``--space`` is the kind of Space (the clients' ``space=``:
``flux-schnell`` or ``flux-dev``) and ``--url`` is where it runs (their ``base_url``). The
spellings of flux-sdk 0.1 (``--model KIND``, and ``--space URL``) still work for one release,
each with a one-line deprecation warning.

Standard library and flux-sdk's light modules only, so that ``flux --help`` is fast.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn
from urllib.parse import urlsplit

from .._config import DEFAULT_TIMEOUT, ProtocolName
from .._limits import (
    DEFAULT_SIZE,
    DEV_GUIDANCE,
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
from ._errors import ErrorContext, UsageError, exit_codes_text

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_KIND",
    "KINDS",
    "KIND_URLS",
    "LOCAL",
    "BatchOptions",
    "CommandLineError",
    "GenerateOptions",
    "InfoOptions",
    "JobFlags",
    "Options",
    "ServeLocalOptions",
    "SpaceKind",
    "build_parser",
    "parse_args",
    "parse_command_line",
]

SpaceKind = Literal["flux-schnell", "flux-dev"]
"""``--space``: which kind of Space, as the clients' ``space=`` alias."""
KINDS: tuple[SpaceKind, ...] = ("flux-schnell", "flux-dev")
DEFAULT_KIND: SpaceKind = "flux-schnell"
KIND_URLS: dict[SpaceKind, str] = {"flux-schnell": SCHNELL_URL, "flux-dev": DEV_URL}
"""Each kind's public Space: the ``--url`` when none is given."""
LOCAL = "local"
"""``--url local``: start the local Space for this command."""
DEFAULT_CONCURRENCY = 4
PROTOCOLS: tuple[ProtocolName, ...] = ("auto", "queue", "call")
SIZE_HELP = f"a multiple of {SIZE_STEP} from {MIN_SIZE} to {MAX_SIZE}"
STEPS_HELP = f"{MIN_STEPS} to {MAX_STEPS}"
SEED_HELP = f"0 to {MAX_SEED}"


def _token_given(token: str | None) -> bool:
    return bool(token if token is not None else os.environ.get("HF_TOKEN"))


@dataclass(frozen=True, kw_only=True)
class JobFlags:
    """The flags ``generate`` and ``batch`` share.

    Attributes:
        width: Image width.
        height: Image height.
        steps: Inference steps; None for the kind's default (4, or 28 for flux-dev).
        seed: ``--seed``; None randomizes the seed (each prompt's, in a batch) on the Space.
        guidance: ``--guidance`` (flux-dev only); None for the Space's default.
        url: ``--url``: a Space URL, or ``"local"``.
        space: ``--space``: which kind of Space (the client's ``space=``).
        token: ``--token``; None falls back to ``HF_TOKEN``.
        ca_bundle: ``--ca-bundle``: the CA bundle to trust; None for the default CAs.
        http2: ``--http2``: offer HTTP/2 over TLS.
        protocol: ``auto``, ``queue`` or ``call``.
        timeout: Seconds for each job; None for the SDK's default.
        wait_on_quota: Wait out a ZeroGPU quota error and try again.
        step_delay: ``--step-delay`` (``--url local`` only): seconds per step on the local
            Space; None for its default.
        json: Machine-readable output.
        verbose: Show the SDK's log (requests, retries, the cancel) on the live display.
    """

    width: int = DEFAULT_SIZE
    height: int = DEFAULT_SIZE
    steps: int | None = None
    seed: int | None = None
    guidance: float | None = None
    url: str = SCHNELL_URL
    space: SpaceKind = DEFAULT_KIND
    token: str | None = None
    ca_bundle: str | None = None
    http2: bool = False
    protocol: ProtocolName = "auto"
    timeout: float | None = None
    wait_on_quota: bool = False
    step_delay: float | None = None
    json: bool = False
    verbose: bool = False

    def context(self) -> ErrorContext:
        """What the error messages of a job need to know."""
        return ErrorContext(
            url=self.url,
            protocol=self.protocol,
            token=_token_given(self.token),
            wait_on_quota=self.wait_on_quota,
            timeout=self.timeout if self.timeout is not None else DEFAULT_TIMEOUT.total,
        )


@dataclass(frozen=True, kw_only=True)
class GenerateOptions(JobFlags):
    """``flux generate``'s options, with the `JobFlags`.

    Attributes:
        prompt: The text prompt.
        output: ``-o``: a file or a directory; None for ``flux-<seed>.webp``.
    """

    prompt: str
    output: str | None = None


@dataclass(frozen=True, kw_only=True)
class BatchOptions(JobFlags):
    """``flux batch``'s options, with the `JobFlags`.

    Attributes:
        file: The prompt file, one prompt a line; ``-`` for stdin.
        output: ``-o``: the directory the images go to (created if missing).
        concurrency: Jobs in flight at once.
    """

    file: str
    output: str
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass(frozen=True, kw_only=True)
class InfoOptions:
    """``flux info``'s options.

    Attributes:
        url: A Space URL, or ``"local"``.
        space: Compare with what flux-sdk sends to this kind of Space.
        token: ``--token``; None falls back to ``HF_TOKEN``.
        ca_bundle: ``--ca-bundle``: the CA bundle to trust; None for the default CAs.
        http2: ``--http2``: offer HTTP/2 over TLS.
        json: Machine-readable output.
    """

    url: str = SCHNELL_URL
    space: SpaceKind = DEFAULT_KIND
    token: str | None = None
    ca_bundle: str | None = None
    http2: bool = False
    json: bool = False

    def context(self) -> ErrorContext:
        """What the error messages of ``flux info`` need to know."""
        return ErrorContext(url=self.url, token=_token_given(self.token))


@dataclass(frozen=True, kw_only=True)
class ServeLocalOptions:
    """``flux serve-local``'s options.

    Attributes:
        port: Port on 127.0.0.1; None picks a free one.
        faults: Enable the prompt fault tags.
        space: Which kind of Space's API the replica serves.
        step_delay: Seconds per inference step; None for the local Space's default.
    """

    port: int | None = None
    faults: bool = False
    space: SpaceKind = DEFAULT_KIND
    step_delay: float | None = None

    def context(self) -> ErrorContext:
        """What the error messages of ``flux serve-local`` need to know."""
        return ErrorContext(url=LOCAL)


Options = GenerateOptions | BatchOptions | InfoOptions | ServeLocalOptions
"""A parsed command line: the command is the class."""


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


def _url(value: str) -> str:
    """``--url``: ``local`` or an http(s) URL."""
    if value == LOCAL:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"expected an http(s) URL or 'local', got {value!r}")
    return value.rstrip("/")


def _ca_bundle(value: str) -> str:
    """``--ca-bundle``: an existing CA bundle file, or a directory of hashed certificates."""
    if not os.path.exists(value):
        raise argparse.ArgumentTypeError(f"no CA bundle (file or directory) at {value!r}")
    return value


def _number_of_seconds(value: str, *, zero: bool) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not (seconds >= 0 if zero else seconds > 0) or seconds == float("inf"):
        wanted = "0 or more seconds" if zero else "a positive number of seconds"
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {value!r}")
    return seconds


def _seconds(value: str) -> float:
    """``--timeout``: a positive number of seconds."""
    return _number_of_seconds(value, zero=False)


def _delay(value: str) -> float:
    """``--step-delay``: zero or a positive number of seconds."""
    return _number_of_seconds(value, zero=True)


def _integer(value: str, *, what: str, wanted: str, low: int, high: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
    if number < low or (high is not None and number > high):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {number}")
    return number


def _port(value: str) -> int:
    """``--port``: 1 to 65535."""
    return _integer(value, what="a port number", wanted="a port from 1 to 65535", low=1, high=65535)


def _count(value: str) -> int:
    """``--concurrency``: a whole number from 1."""
    return _integer(value, what="a whole number", wanted="a number from 1", low=1)


class _SpaceAction(argparse.Action):
    """``--space KIND``, and flux-sdk 0.1's spellings: ``--model KIND``, ``--space URL|local``.

    ``const`` says whether the command takes a URL (all but ``serve-local``).
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        value = str(values)
        kinds = " or ".join(KINDS)
        if option_string == "--model":  # choices=KINDS: a kind
            namespace.space = value
            message = (
                "--model is deprecated and will stop working in the next release: "
                f"use --space {value}"
            )
        elif value in KINDS:
            namespace.space = value
            return
        elif not self.const:
            raise argparse.ArgumentError(self, f"expected {kinds}, got {value!r}")
        else:
            try:
                namespace.url = _url(value)
            except argparse.ArgumentTypeError:
                raise argparse.ArgumentError(
                    self, f"expected {kinds} (the Space's URL goes to --url), got {value!r}"
                ) from None
            message = (
                f"--space {value} is deprecated and will stop working in the next release: "
                f"use --url {value} (--space names the kind of Space: {kinds})"
            )
        # Kept with the values, not printed here: main prints them in the output's form.
        notes: list[str] = getattr(namespace, "deprecated", [])
        namespace.deprecated = [*notes, message]


def _add_space(parser: argparse.ArgumentParser, *, what: str, urls: bool) -> None:
    """``--space KIND``, and ``--model KIND`` hidden: its deprecated spelling."""
    parser.add_argument(
        "--space",
        action=_SpaceAction,
        const=urls,
        default=DEFAULT_KIND,
        metavar="KIND",
        help=f"{what}: flux-schnell (FLUX.1-schnell) or flux-dev (FLUX.1-dev, with guidance) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        action=_SpaceAction,
        const=urls,
        dest="space",
        choices=KINDS,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )


def _add_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        type=_url,
        metavar="URL|local",
        help="the Space's URL, or 'local' to start the local Space for this command "
        "(needs the [local] extra) (default: the --space's public Space)",
    )
    _add_space(parser, what="which kind of Space", urls=True)
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="Hugging Face token, sent to the Space only (default: $HF_TOKEN)",
    )
    parser.add_argument(
        "--ca-bundle",
        type=_ca_bundle,
        metavar="PATH",
        help="trust only this CA bundle for the Space's TLS certificate, e.g. a corporate "
        "proxy's CA (default: the system's and certifi's CAs, or $SSL_CERT_FILE)",
    )
    parser.add_argument(
        "--http2",
        action="store_true",
        help="offer HTTP/2 over TLS (needs the [http2] extra): jobs in flight share one connection",
    )


def _add_step_delay(parser: argparse.ArgumentParser, *, what: str) -> None:
    parser.add_argument(
        "--step-delay",
        type=_delay,
        metavar="SECONDS",
        help=f"{what}seconds the local Space spends on each inference step, to watch the "
        "progress (default: the local Space's)",
    )


def _add_output_flags(parser: argparse.ArgumentParser, *, verbose: bool) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output only")
    if verbose:
        parser.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="on a terminal, also show the SDK's log: requests, retries, the cancel",
        )


def _add_job_flags(parser: argparse.ArgumentParser, *, seed_help: str, timeout_help: str) -> None:
    """The `JobFlags`: the request, the Space, the output mode."""
    parser.add_argument("--seed", type=int, metavar="N", help=seed_help)
    for name in ("--width", "--height"):
        parser.add_argument(
            name,
            type=int,
            default=DEFAULT_SIZE,
            metavar="N",
            help=f"{SIZE_HELP} (default: %(default)s)",
        )
    parser.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help=f"inference steps, {STEPS_HELP} (default: {SCHNELL_STEPS}, "
        f"or {DEV_STEPS} with --space flux-dev)",
    )
    parser.add_argument(
        "--guidance",
        type=float,
        metavar="X",
        help=f"guidance scale, --space flux-dev only (default: the Space's, {DEV_GUIDANCE:g})",
    )
    _add_url(parser)
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="auto",
        help="Gradio protocol: queue (progress, the Space's log messages, error text), "
        "call (/call/ API), auto (default: queue)",
    )
    parser.add_argument("--timeout", type=_seconds, metavar="SECONDS", help=timeout_help)
    parser.add_argument(
        "--wait-on-quota",
        action="store_true",
        help="when ZeroGPU's quota is used up, wait the time the Space names and try again "
        "(within --timeout) instead of failing",
    )
    _add_step_delay(parser, what="with --url local: ")
    _add_output_flags(parser, verbose=True)


_SEE_EXIT_CODES = "Exit statuses: see flux --help."


def _command(
    add_parser: Callable[..., argparse.ArgumentParser],
    name: str,
    options: Callable[..., Options],
    *,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    """A subcommand whose values build ``options``."""
    parser = add_parser(name, help=summary, description=description, epilog=_SEE_EXIT_CODES)
    parser.set_defaults(options=options, command_parser=parser)
    return parser


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
    add = commands.add_parser

    generate = _command(
        add,
        "generate",
        GenerateOptions,
        summary="generate one image and save it",
        description="Generate one image and save it. On a terminal, shows the queue position, "
        "ETA, step progress and the Space's log messages. Ends with a line such as "
        "'saved fox.webp (768×512, seed 7)'; with --json, one JSON object instead.",
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
    _add_job_flags(
        generate,
        seed_help=f"seed, {SEED_HELP} (default: a random seed chosen by the Space)",
        timeout_help="time limit for the whole job (default: 600)",
    )

    batch = _command(
        add,
        "batch",
        BatchOptions,
        summary="generate one image per line of a prompt file",
        description="Generate one image per prompt of FILE (one prompt a line; blank lines and "
        "lines starting with # are skipped), --concurrency at a time, and save each as "
        "DIR/NNNN-<slug>.webp as soon as it is done. On a terminal, shows a progress bar and "
        "a summary of the failures; with --json, one JSON object instead. Exits with "
        "status 19 when some prompts failed. Run the same command again to finish the batch: "
        "the prompts whose images DIR/flux-batch.jsonl records as complete are skipped.",
    )
    batch.add_argument("file", metavar="FILE", help="the prompt file, or - for stdin")
    # Not shared with generate's: -o is a directory here, and required.
    batch.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        required=True,
        help="the directory for the images (created if missing) and their manifest, "
        "flux-batch.jsonl",
    )
    batch.add_argument(
        "--concurrency",
        type=_count,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help="jobs in flight at once (default: %(default)s)",
    )
    _add_job_flags(
        batch,
        seed_help=f"seed for every prompt, {SEED_HELP} (default: a random seed for each)",
        timeout_help="time limit for each job (default: 600)",
    )

    info = _command(
        add,
        "info",
        InfoOptions,
        summary="show the Space's live API and compare it with flux-sdk's",
        description="Show the Space's Gradio version, API prefix, fn_index and infer "
        "parameters with their limits, and compare them with what flux-sdk sends to that "
        "kind of Space (--space). Exits with status 3 when they differ.",
    )
    _add_url(info)
    _add_output_flags(info, verbose=False)

    serve = _command(
        add,
        "serve-local",
        ServeLocalOptions,
        summary="run the local Space (a Gradio replica) on 127.0.0.1 until Ctrl-C",
        description="Run the local Space, a real Gradio app with the API of the --space's "
        "public Space that draws a placeholder image, on 127.0.0.1 until Ctrl-C. Prints its "
        "URL on stdout. Needs the [local] extra.",
    )
    serve.add_argument("--port", type=_port, metavar="N", help="port (default: a free one)")
    _add_space(
        serve,
        what="whose API to serve",
        urls=False,
    )
    _add_step_delay(serve, what="")
    serve.add_argument(
        "--faults",
        action="store_true",
        help="enable the prompt fault tags: [error] [quota] [gpu] [crash] [slow] [info]",
    )
    return parser


def parse_command_line(argv: Sequence[str]) -> tuple[Options, tuple[str, ...]]:
    """Parse a ``flux`` command line (without the program name).

    Returns:
        The command's options, and a warning for each deprecated spelling it used.

    Raises:
        CommandLineError: The command line is wrong.
        SystemExit: ``--help`` or ``--version`` was printed.
    """
    values = vars(build_parser().parse_args(list(argv)))
    del values["command"]
    options: Callable[..., Options] = values.pop("options")
    parser: argparse.ArgumentParser = values.pop("command_parser")
    deprecated: list[str] = values.pop("deprecated", [])
    if values.get("url", LOCAL) is None:
        values["url"] = KIND_URLS[values["space"]]
    parsed = options(**values)
    if isinstance(parsed, JobFlags):
        if parsed.guidance is not None and parsed.space != "flux-dev":
            parser.error("--guidance needs --space flux-dev (FLUX.1-schnell has no guidance)")
        if parsed.step_delay is not None and parsed.url != LOCAL:
            parser.error("--step-delay needs --url local (it slows the local Space)")
    return parsed, tuple(deprecated)


def parse_args(argv: Sequence[str]) -> Options:
    """The options of a ``flux`` command line (see `parse_command_line`).

    Example:
        >>> parse_args(["generate", "a fox", "--seed", "7"]).seed
        7
    """
    return parse_command_line(argv)[0]
