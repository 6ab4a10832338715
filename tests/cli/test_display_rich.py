"""The rich live display (the ``cli`` extra); skipped where rich is not installed."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("rich")

from rich.console import Console

from flux_sdk import Log, Progress, Queued
from flux_sdk._cli._display import RichDisplay, open_display


def test_rich_display_prints_log_messages_as_plain_text() -> None:
    stream = io.StringIO()
    display = RichDisplay(Console(file=stream, force_terminal=False, width=100))
    display.event(Queued(rank=0, queue_size=1, eta=3.0))
    display.event(Progress(step=2, total=4))
    display.event(Log(level="warning", message="[bold]not markup[/bold]", title="ZeroGPU"))
    display.close()
    display.close()
    assert "ZeroGPU: [bold]not markup[/bold]" in stream.getvalue()


def test_rich_display_draws_the_bar_on_a_terminal() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    display = RichDisplay(console)
    display.event(Progress(step=3, total=4))
    console.print("flush")  # a print redraws the live line below it
    display.close()
    output = stream.getvalue()
    assert "generating" in output
    assert "3/4 steps" in output


def test_open_display_uses_rich_when_installed() -> None:
    live = open_display(live=True, stream=io.StringIO())
    try:
        assert isinstance(live, RichDisplay)
    finally:
        live.close()


def test_rich_display_skips_a_repeated_log_message() -> None:
    # The SDK both logs and streams its own warnings (a quota wait): shown once.
    stream = io.StringIO()
    display = RichDisplay(Console(file=stream, force_terminal=False, width=100))
    display.log("quota exceeded. Waiting 0 s, then trying again", "warning")
    display.log("quota exceeded. Waiting 0 s, then trying again", "warning")
    display.close()
    assert stream.getvalue().count("Waiting 0 s") == 1


def test_rich_batch_display_draws_done_total_and_failures() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    display = RichDisplay(console)
    display.status("connecting")
    display.progress(2, 3, 1)
    display.log("saved out/0001-a-fox.webp (seed 7)", "info")
    console.print("flush")
    display.close()
    display.close()
    output = stream.getvalue()
    assert "2/3" in output
    assert "1 failed" in output
    assert "saved out/0001-a-fox.webp (seed 7)" in output
