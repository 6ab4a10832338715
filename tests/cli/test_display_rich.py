"""The rich live display (the ``cli`` extra); skipped where rich is not installed."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("rich")

from rich.console import Console

from flux_sdk import Log, Progress, Queued
from flux_sdk._cli_display import RichDisplay, open_display


def test_rich_display_prints_notices_as_plain_text() -> None:
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
