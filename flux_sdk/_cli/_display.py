"""The live display of ``flux generate`` and ``flux batch``: one interface, `Display`.

* `RichDisplay`: a rich progress line on a terminal (stderr), redrawn in place, with log
  messages (the Space's `Log` events, such as ZeroGPU's "Waiting for a GPU" or a
  ``gr.Warning``, and the SDK's own log records) printed above it.
* `PlainDisplay`: the same texts, one line per change, for a terminal without ``rich``.
* `NullDisplay`: nothing at all, for machine-readable output.

``generate`` feeds a display its job's events (`Display.event`); ``batch`` the progress of the
whole batch (`Display.progress`: done/total, failures so far) and a log line for each image
saved or prompt failed.

The texts themselves come from pure functions (`queued_text`, `progress_text`, `batch_text`, ...).
"""

from __future__ import annotations

import logging
from typing import IO, TYPE_CHECKING, Protocol

from .._models import Event, Log, Progress, Queued, Started

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "Display",
    "LogHandler",
    "NullDisplay",
    "PlainDisplay",
    "RichDisplay",
    "batch_text",
    "log_text",
    "open_display",
    "progress_text",
    "queued_text",
    "started_text",
]


def _seconds(eta: float) -> str:
    return f"{max(eta, 0.0):.0f} s"


def queued_text(event: Queued) -> str:
    """Where the job waits, e.g. ``"queued: position 2 of 3 (eta 11 s)"``.

    Example:
        >>> queued_text(Queued(rank=1, queue_size=3, eta=11.2))
        'queued: position 2 of 3 (eta 11 s)'
    """
    text = "queued"
    if event.rank is not None:
        text += f": position {event.rank + 1}"
        if event.queue_size is not None and event.queue_size > event.rank:
            text += f" of {event.queue_size}"
    if event.eta is not None:
        text += f" (eta {_seconds(event.eta)})"
    return text


def started_text(event: Started) -> str:
    """The job left the queue, e.g. ``"started (eta 3 s)"``."""
    return f"started (eta {_seconds(event.eta)})" if event.eta is not None else "started"


def progress_text(event: Progress) -> str:
    """Steps done, e.g. ``"3/4 steps"`` (``"3 steps"`` when the total is unknown)."""
    if event.total is None:
        return f"{event.step} {event.unit}"
    return f"{event.step}/{event.total} {event.unit}"


def log_text(event: Log) -> str:
    """A `Log` event's text, e.g. ``"ZeroGPU queue: Waiting for a GPU to become available"``."""
    label = event.title or event.level
    return f"{label}: {event.message}"


def batch_text(done: int, total: int, failed: int) -> str:
    """The batch's progress, e.g. ``"3/10 done, 1 failed"``.

    Example:
        >>> batch_text(3, 10, 0)
        '3/10 done'
    """
    text = f"{done}/{total} done"
    return f"{text}, {failed} failed" if failed else text


class Display(Protocol):
    """What ``flux generate`` and ``flux batch`` show while they run."""

    def status(self, text: str) -> None:
        """Show what the command is doing (starting, connecting, downloading, ...)."""
        ...

    def event(self, event: Event) -> None:
        """Show one event of the job (``flux generate``)."""
        ...

    def progress(self, done: int, total: int, failed: int) -> None:
        """Show how far a batch is: ``done`` of ``total`` finished, ``failed`` of them failed."""
        ...

    def log(self, text: str, level: str) -> None:
        """Show a message that stays: a `Log` event, an SDK warning, an image saved."""
        ...

    def close(self) -> None:
        """Remove the live part of the display; idempotent."""
        ...


class NullDisplay:
    """Shows nothing: machine-readable mode."""

    # Every method of Display, spelled out: a display matches the protocol structurally (no
    # base class), and the type checkers check each signature against it.

    def status(self, text: str) -> None:
        """Ignore ``text``."""

    def event(self, event: Event) -> None:
        """Ignore ``event``."""

    def progress(self, done: int, total: int, failed: int) -> None:
        """Ignore the progress."""

    def log(self, text: str, level: str) -> None:
        """Ignore ``text``."""

    def close(self) -> None:
        """Nothing to close."""


class PlainDisplay:
    """One plain line per change, no control codes: a terminal without ``rich``.

    Args:
        stream: Where the lines go (stderr).
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._last: str | None = None

    def _line(self, text: str) -> None:
        if text != self._last:
            self._last = text
            print(text, file=self._stream, flush=True)

    def status(self, text: str) -> None:
        """Print ``text`` unless it repeats the last line."""
        self._line(text)

    def event(self, event: Event) -> None:
        """Print the event's text unless it repeats the last line."""
        if isinstance(event, Queued):
            self._line(queued_text(event))
        elif isinstance(event, Started):
            self._line(started_text(event))
        elif isinstance(event, Progress):
            self._line(f"generating {progress_text(event)}")
        elif isinstance(event, Log):
            self.log(log_text(event), event.level)

    def progress(self, done: int, total: int, failed: int) -> None:
        """Print `batch_text`."""
        self._line(batch_text(done, total, failed))

    def log(self, text: str, level: str) -> None:
        """Print ``text`` on its own line."""
        self._line(text)

    def close(self) -> None:
        """Nothing to remove: every line stays."""


_LEVEL_STYLES = {"warning": "yellow", "error": "red", "success": "green"}


class RichDisplay:
    """A live progress line on the terminal, with log messages printed above it.

    The line shows the job's steps (``3/4 steps``), or the batch's images (``2/3``) and its
    failures so far.

    Args:
        console: The rich console to draw on (stderr on a terminal).
    """

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[failed]}", style="red"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._bar.add_task("starting", total=None, count="", failed="")
        self._bar.start()
        self._closed = False
        self._last_log: str | None = None

    def status(self, text: str) -> None:
        """Show ``text`` as the line's description, with an indeterminate bar."""
        self._bar.update(self._task, description=text, total=None, completed=0, count="")

    def event(self, event: Event) -> None:
        """Update the line for ``event``; print log messages above it."""
        if isinstance(event, Queued):
            self.status(queued_text(event))
        elif isinstance(event, Started):
            self.status(started_text(event))
        elif isinstance(event, Progress):
            self._bar.update(
                self._task,
                description="generating",
                total=event.total,
                completed=event.step,
                count=progress_text(event),
            )
        elif isinstance(event, Log):
            self.log(log_text(event), event.level)
        elif event.type == "completed":
            self.status("done")
        # Anything else (e.g. an intermediate preview image) changes nothing on the line.

    def progress(self, done: int, total: int, failed: int) -> None:
        """Advance the bar over the batch; show the failures so far."""
        self._bar.update(
            self._task,
            description="generating",
            total=total,
            completed=done,
            count=f"{done}/{total}",
            failed=f"{failed} failed" if failed else "",
        )

    def log(self, text: str, level: str) -> None:
        """Print ``text`` above the live line (as plain text: no rich markup is read).

        A message that repeats the last one is skipped: the SDK both logs and streams its own
        warnings (a failover, a wait on the quota), so each would otherwise appear twice.
        """
        from rich.text import Text

        if text == self._last_log:
            return
        self._last_log = text
        self._bar.console.print(Text(text, style=_LEVEL_STYLES.get(level, "")))

    def close(self) -> None:
        """Stop the live line and erase it."""
        if not self._closed:
            self._closed = True
            self._bar.stop()


class LogHandler(logging.Handler):
    """Shows the SDK's log records (e.g. a retried request) on a `Display`.

    Attached to the ``flux_sdk`` logger while a command runs, it also keeps Python's
    last-resort handler from writing them to stderr in machine-readable mode.
    """

    def __init__(self, display: Display, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._display = display

    def emit(self, record: logging.LogRecord) -> None:
        """Pass the record's message to the display."""
        try:
            self._display.log(record.getMessage(), record.levelname.lower())
        except Exception:
            self.handleError(record)


def open_display(*, live: bool, stream: IO[str]) -> Display:
    """The display for this run.

    Args:
        live: Whether to show progress at all (stderr is a terminal, no ``--json``).
        stream: The terminal stream (stderr).

    Returns:
        A `RichDisplay` when ``rich`` is installed (the ``cli`` extra), else a `PlainDisplay`;
        a `NullDisplay` when ``live`` is false.
    """
    if not live:
        return NullDisplay()
    try:
        from rich.console import Console
    except ImportError:
        return PlainDisplay(stream)
    return RichDisplay(Console(file=stream))
