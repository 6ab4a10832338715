"""The live displays of ``flux generate`` and ``flux batch``.

Three displays share one small interface, `Display`:

* `RichDisplay`: a rich progress line on a terminal (stderr), redrawn in place, with the Space's
  notices (ZeroGPU's "Waiting for a GPU", ``gr.Info``/``gr.Warning``) printed above it.
* `PlainDisplay`: the same texts, one line per change, for a terminal without ``rich``.
* `NullDisplay`: nothing at all, for machine-readable output.

``flux batch`` has the same three in `BatchDisplay` form (`RichBatchDisplay`,
`PlainBatchDisplay`, `NullBatchDisplay`): one bar over the whole batch (done/total, failures so
far), with a line above it for each image saved or prompt failed.

The texts themselves come from pure functions (`queued_text`, `progress_text`, `batch_text`, ...).
"""

from __future__ import annotations

import logging
from typing import IO, TYPE_CHECKING, Protocol

from .._models import Event, Log, Progress, Queued, Started

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "BatchDisplay",
    "Display",
    "NoticeHandler",
    "Notices",
    "NullBatchDisplay",
    "NullDisplay",
    "PlainBatchDisplay",
    "PlainDisplay",
    "RichBatchDisplay",
    "RichDisplay",
    "batch_text",
    "notice_text",
    "open_batch_display",
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


def notice_text(event: Log) -> str:
    """A notice from the Space, e.g. ``"ZeroGPU queue: Waiting for a GPU to become available"``."""
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


class Notices(Protocol):
    """Where `NoticeHandler` sends the SDK's log records."""

    def notice(self, text: str, level: str) -> None:
        """Show a message that stays."""
        ...


class Display(Protocol):
    """What ``flux generate`` shows while a job runs."""

    def status(self, text: str) -> None:
        """Show what the command is doing (connecting, downloading, ...)."""
        ...

    def event(self, event: Event) -> None:
        """Show one event of the job."""
        ...

    def notice(self, text: str, level: str) -> None:
        """Show a message that stays (a Space notice, an SDK warning)."""
        ...

    def close(self) -> None:
        """Remove the live part of the display; idempotent."""
        ...


class NullDisplay:
    """Shows nothing: machine-readable mode."""

    def status(self, text: str) -> None:
        """Ignore ``text``."""

    def event(self, event: Event) -> None:
        """Ignore ``event``."""

    def notice(self, text: str, level: str) -> None:
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
            self.notice(notice_text(event), event.level)

    def notice(self, text: str, level: str) -> None:
        """Print ``text`` on its own line."""
        self._line(text)

    def close(self) -> None:
        """Nothing to remove: every line stays."""


_LEVEL_STYLES = {"warning": "yellow", "error": "red", "success": "green"}


class RichDisplay:
    """A live progress line on the terminal, with notices printed above it.

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

        self._console = console
        self._bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._bar.add_task("starting", total=None, count="")
        self._bar.start()
        self._closed = False
        self._last_notice: str | None = None

    def status(self, text: str) -> None:
        """Show ``text`` as the line's description, with an indeterminate bar."""
        self._bar.update(self._task, description=text, total=None, completed=0, count="")

    def event(self, event: Event) -> None:
        """Update the line for ``event``; print notices above it."""
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
            self.notice(notice_text(event), event.level)
        elif event.type == "completed":
            self.status("done")
        # Anything else (e.g. an intermediate preview image) changes nothing on the line.

    def notice(self, text: str, level: str) -> None:
        """Print ``text`` above the live line (as plain text: no rich markup is read).

        A notice that repeats the last one is skipped: the SDK both logs and streams its own
        warnings (a failover, a wait on the quota), so each would otherwise appear twice.
        """
        from rich.text import Text

        if text == self._last_notice:
            return
        self._last_notice = text
        self._bar.console.print(Text(text, style=_LEVEL_STYLES.get(level, "")))

    def close(self) -> None:
        """Stop the live line and erase it."""
        if not self._closed:
            self._closed = True
            self._bar.stop()


class BatchDisplay(Protocol):
    """What ``flux batch`` shows while the batch runs."""

    def status(self, text: str) -> None:
        """Show what the command is doing before the batch starts (starting, connecting)."""
        ...

    def progress(self, done: int, total: int, failed: int) -> None:
        """Show how far the batch is: ``done`` of ``total`` finished, ``failed`` of them failed."""
        ...

    def notice(self, text: str, level: str) -> None:
        """Show a message that stays: an image saved, a prompt failed, an SDK warning."""
        ...

    def close(self) -> None:
        """Remove the live part of the display; idempotent."""
        ...


class NullBatchDisplay:
    """Shows nothing: machine-readable mode."""

    def status(self, text: str) -> None:
        """Ignore ``text``."""

    def progress(self, done: int, total: int, failed: int) -> None:
        """Ignore the progress."""

    def notice(self, text: str, level: str) -> None:
        """Ignore ``text``."""

    def close(self) -> None:
        """Nothing to close."""


class PlainBatchDisplay(PlainDisplay):
    """One plain line per change: a terminal without ``rich``."""

    def progress(self, done: int, total: int, failed: int) -> None:
        """Print `batch_text`."""
        self._line(batch_text(done, total, failed))


class RichBatchDisplay:
    """A live bar over the whole batch, with a line above it for each finished prompt.

    Args:
        console: The rich console to draw on (stderr on a terminal).
    """

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}", style="red"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._bar.add_task("starting", total=None, failed="")
        self._bar.start()
        self._closed = False

    def status(self, text: str) -> None:
        """Show ``text`` as the bar's description."""
        self._bar.update(self._task, description=text)

    def progress(self, done: int, total: int, failed: int) -> None:
        """Advance the bar; show the failures so far."""
        self._bar.update(
            self._task,
            description="generating",
            total=total,
            completed=done,
            failed=f"{failed} failed" if failed else "",
        )

    def notice(self, text: str, level: str) -> None:
        """Print ``text`` above the bar (as plain text: no rich markup is read)."""
        from rich.text import Text

        self._bar.console.print(Text(text, style=_LEVEL_STYLES.get(level, "")))

    def close(self) -> None:
        """Stop the bar and erase it."""
        if not self._closed:
            self._closed = True
            self._bar.stop()


class NoticeHandler(logging.Handler):
    """Shows the SDK's warnings (e.g. a retried request) as notices on a `Display`.

    Attached to the ``flux_sdk`` logger while a command runs, it also keeps Python's
    last-resort handler from writing them to stderr in machine-readable mode.
    """

    def __init__(self, display: Notices, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._display = display

    def emit(self, record: logging.LogRecord) -> None:
        """Pass the record's message to the display."""
        try:
            self._display.notice(record.getMessage(), record.levelname.lower())
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


def open_batch_display(*, live: bool, stream: IO[str]) -> BatchDisplay:
    """The display for a batch: like `open_display`, with a bar over the whole batch.

    Args:
        live: Whether to show progress at all (stderr is a terminal, no ``--json``).
        stream: The terminal stream (stderr).
    """
    if not live:
        return NullBatchDisplay()
    try:
        from rich.console import Console
    except ImportError:
        return PlainBatchDisplay(stream)
    return RichBatchDisplay(Console(file=stream))
