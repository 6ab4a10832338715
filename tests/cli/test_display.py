"""The live display's texts, and its plain and silent forms (rich: test_display_rich.py)."""

from __future__ import annotations

import io
import logging

import pytest

from flux_sdk import Log, Progress, Queued, Started
from flux_sdk._cli._display import (
    LogHandler,
    NullDisplay,
    PlainDisplay,
    batch_text,
    log_text,
    open_display,
    progress_text,
    queued_text,
    started_text,
)


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (Queued(rank=1, queue_size=3, eta=11.2), "queued: position 2 of 3 (eta 11 s)"),
        (Queued(rank=0, queue_size=1), "queued: position 1 of 1"),
        (Queued(rank=2), "queued: position 3"),
        (Queued(), "queued"),
        (Queued(eta=4.6), "queued (eta 5 s)"),
    ],
)
def test_queued_text(event: Queued, text: str) -> None:
    assert queued_text(event) == text


def test_started_progress_and_log_texts() -> None:
    assert started_text(Started(eta=2.6)) == "started (eta 3 s)"
    assert started_text(Started()) == "started"
    assert progress_text(Progress(step=3, total=4)) == "3/4 steps"
    assert progress_text(Progress(step=3)) == "3 steps"
    notice = Log(level="info", message="Waiting for a GPU", title="ZeroGPU queue")
    assert log_text(notice) == "ZeroGPU queue: Waiting for a GPU"
    assert log_text(Log(level="warning", message="careful")) == "warning: careful"


def test_plain_display_prints_each_change_once() -> None:
    stream = io.StringIO()
    display = PlainDisplay(stream)
    display.status("connecting to http://127.0.0.1:7860")
    display.event(Queued(rank=1, queue_size=2))
    display.event(Queued(rank=1, queue_size=2))
    display.event(Started())
    display.event(Progress(step=0, total=4))
    display.event(Log(level="info", message="Waiting for a GPU", title="ZeroGPU queue"))
    display.event(Progress(step=1, total=4))
    display.close()
    assert stream.getvalue().splitlines() == [
        "connecting to http://127.0.0.1:7860",
        "queued: position 2 of 2",
        "started",
        "generating 0/4 steps",
        "ZeroGPU queue: Waiting for a GPU",
        "generating 1/4 steps",
    ]


def test_no_display_off_a_terminal() -> None:
    assert isinstance(open_display(live=False, stream=io.StringIO()), NullDisplay)


def test_null_display_shows_nothing() -> None:
    display = NullDisplay()
    display.status("x")
    display.event(Started())
    display.progress(1, 2, 1)
    display.log("x", "info")
    display.close()


def test_sdk_warnings_become_log_lines_and_info_only_when_asked() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("flux_sdk.test_cli")
    logger.propagate = False
    handler = LogHandler(PlainDisplay(stream))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("job 1 submitted")
        logger.warning("GET /config failed; retry 1 of 2")
        handler.setLevel(logging.INFO)
        logger.info("job 1 cancelled: HTTP 200")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "GET /config failed; retry 1 of 2",
        "job 1 cancelled: HTTP 200",
    ]


def test_batch_text() -> None:
    assert batch_text(0, 3, 0) == "0/3 done"
    assert batch_text(2, 3, 1) == "2/3 done, 1 failed"


def test_plain_batch_display() -> None:
    stream = io.StringIO()
    display = PlainDisplay(stream)
    display.status("connecting to http://127.0.0.1:7860")
    display.progress(0, 2, 0)
    display.log("saved out/0001-a-fox.webp (seed 7)", "info")
    display.progress(1, 2, 0)
    display.log('failed: line 2 "[error] boom": the job failed on the Space: boom', "error")
    display.progress(2, 2, 1)
    display.close()
    assert stream.getvalue().splitlines() == [
        "connecting to http://127.0.0.1:7860",
        "0/2 done",
        "saved out/0001-a-fox.webp (seed 7)",
        "1/2 done",
        'failed: line 2 "[error] boom": the job failed on the Space: boom',
        "2/2 done, 1 failed",
    ]
