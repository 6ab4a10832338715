"""Where the ``flux`` command's results, warnings and errors go, and in which form."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from typing import IO

from ._errors import Failure

__all__ = ["OutputMode", "isatty", "print_json", "print_line", "report", "warn"]


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


def isatty(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal (False for replaced or closed streams)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def print_line(text: str, stream: IO[str]) -> None:
    """Print ``text`` and flush; nothing when the reader has gone (``flux ... | head``)."""
    with contextlib.suppress(BrokenPipeError):
        print(text, file=stream, flush=True)


def print_json(body: dict[str, object], stream: IO[str]) -> None:
    """Print ``body`` as one line of JSON."""
    print_line(json.dumps(body, ensure_ascii=False), stream)


def report(failure: Failure, mode: OutputMode) -> None:
    """Write ``failure`` to stderr: one JSON object, or one ``error:`` line."""
    if mode.json_errors:
        print_json(failure.to_json(), sys.stderr)
    else:
        print_line(f"error: {failure.message}", sys.stderr)


def warn(message: str, mode: OutputMode) -> None:
    """Write a warning to stderr: a ``{"warning": ...}`` object, or one ``warning:`` line."""
    if mode.json_errors:
        print_json({"warning": message}, sys.stderr)
    else:
        print_line(f"warning: {message}", sys.stderr)
