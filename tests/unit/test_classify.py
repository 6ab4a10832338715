"""`normalise`, `parse_retry_after`, `classify`, `classify_http` (README §3.4, §4.2, §6, §9)."""

from __future__ import annotations

import datetime
import email.utils
from typing import cast

import pytest

from flux_sdk import (
    EndpointNotFoundError,
    GPUUnavailableError,
    InputRejectedError,
    JobFailedError,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    SpaceUnavailableError,
)
from flux_sdk._protocol import classify, classify_http, normalise, parse_retry_after
from tests.transcripts import load

MIN = datetime.timedelta(minutes=1)

# -- normalise --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("plain text", "plain text"),
        # Gradio 4.44: gr.Error.__str__ is repr(message)
        ("'Replica gr.Error: simulated failure'", "Replica gr.Error: simulated failure"),
        ('"it\'s quoted"', "it's quoted"),
        # Not a repr() of a string, so not Gradio 4's wrapping: kept as sent.
        ("''twice''", "''twice''"),
        ("it's not wrapped", "it's not wrapped"),
        ("'", "'"),
        ("", ""),
        ("  padded \n  text\t ", "padded text"),
        (
            'No GPU was available after 60s. <a style="white-space: nowrap" '
            'href="https://huggingface.co/join">Create a free account</a> to get a higher '
            "priority in ZeroGPU queues.",
            "No GPU was available after 60s. Create a free account to get a higher priority "
            "in ZeroGPU queues.",
        ),
        ("Tom &amp; Jerry &lt;3 &quot;x&quot;", 'Tom & Jerry <3 "x"'),
        ("<b>bold</b><br/>next", "boldnext"),
    ],
)
def test_normalise(raw: str | None, expected: str | None) -> None:
    assert normalise(raw) == expected


def test_normalise_keeps_quotes_that_are_part_of_the_message() -> None:
    assert normalise("'prompt' must not be 'empty'") == "'prompt' must not be 'empty'"


# -- parse_retry_after ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Try again in 0:06:53", datetime.timedelta(minutes=6, seconds=53)),
        ("... vs. 42s left). Try again in 0:07:13. Subscribe", datetime.timedelta(seconds=433)),
        ("retry in 1:02:03", datetime.timedelta(hours=1, minutes=2, seconds=3)),
        ("TRY AGAIN IN 10:00:00", datetime.timedelta(hours=10)),
        (
            "Sign-up on Hugging Face to get more quotas or retry in 0:06:53",
            datetime.timedelta(seconds=413),
        ),
        ("You have exceeded your ZeroGPU runs limit.", None),
        ("Try again once some of those tasks have completed.", None),
        ("Try again in 6 minutes", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(text: str | None, expected: datetime.timedelta | None) -> None:
    assert parse_retry_after(text) == expected


# -- classify: the ZeroGPU table (§6) ---------------------------------------------------------

QUOTA_HINT_NO_AUTH = (
    "Authenticate with a Hugging Face token for more quota - https://huggingface.co/settings/tokens"
)
QUOTA = "ZeroGPU quota exceeded"


@pytest.mark.parametrize(
    ("raw", "title", "cls", "retry_after"),
    [
        # user with a token: quota with H:MM:SS
        (
            "You have exceeded your free ZeroGPU quota (60s requested vs. 42s left). "
            f"Try again in 0:06:53. {QUOTA_HINT_NO_AUTH}",
            QUOTA,
            QuotaExceededError,
            datetime.timedelta(minutes=6, seconds=53),
        ),
        (
            "You have exceeded your Pro ZeroGPU quota (60s requested vs. 1s left). "
            "Try again in 2:00:00. Add credits to keep using ZeroGPU.",
            QUOTA,
            QuotaExceededError,
            datetime.timedelta(hours=2),
        ),
        (
            f"You have exceeded your ZeroGPU runs limit. {QUOTA_HINT_NO_AUTH}",
            QUOTA,
            QuotaExceededError,
            None,
        ),
        (
            "Space app has reached its GPU limit. Try re-running outside of examples if it "
            "happened after clicking one",
            QUOTA,
            QuotaExceededError,
            None,
        ),
        # a queue wait titled "quota exceeded" is still a GPU shortage (gradio's workflow.py)
        (
            "No GPU was available after 60s. Try re-running outside of examples if it happened "
            "after clicking one",
            QUOTA,
            GPUUnavailableError,
            None,
        ),
        (
            'No GPU was available after 60s. <a style="white-space: nowrap;" '
            'href="https://huggingface.co/join">Create a free account</a> to get a higher '
            "priority in ZeroGPU queues.",
            "ZeroGPU queue timeout",
            GPUUnavailableError,
            None,
        ),
        (
            "You have too many ZeroGPU credits allocated to running tasks. Try again once some "
            "of those tasks have completed.",
            "ZeroGPU pending credits exceeded",
            QuotaExceededError,
            None,
        ),
        ("No GPU was available", "ZeroGPU client error", GPUUnavailableError, None),
        ("Expired ZeroGPU proxy token", "ZeroGPU client error", GPUUnavailableError, None),
        ("Internal Gradio error", "ZeroGPU client error", GPUUnavailableError, None),
        ("GPU task aborted", "ZeroGPU worker error", GPUUnavailableError, None),
        (
            "The requested GPU duration (120s) is larger than the maximum allowed",
            "ZeroGPU illegal duration",
            JobFailedError,
            None,
        ),
        # older wordings, no title (Gradio 4 or old spaces)
        (
            "You have exceeded your GPU quota (60s requested vs. 57s left). Create a free "
            "account to get more daily usage quota.",
            None,
            QuotaExceededError,
            None,
        ),
        (
            "You have exceeded your GPU quota (112s left vs. 120s requested). Sign-up on "
            "Hugging Face to get more quotas or retry in 0:06:53",
            None,
            QuotaExceededError,
            datetime.timedelta(minutes=6, seconds=53),
        ),
        (
            "You have exceeded your free GPU quota (60s requested vs. 55s left)",
            None,
            QuotaExceededError,
            None,
        ),
        (
            "'You have exceeded your free ZeroGPU quota (60s requested vs. 42s left). "
            "Try again in 0:07:13. Subscribe to Hugging Face PRO'",
            None,
            QuotaExceededError,
            datetime.timedelta(minutes=7, seconds=13),
        ),
        # without a title, no-GPU text is still recognised
        ("No GPU was available after 60s.", None, GPUUnavailableError, None),
        ("GPU task aborted", None, GPUUnavailableError, None),
    ],
)
def test_classify_zerogpu(
    raw: str,
    title: str | None,
    cls: type[ResponseError],
    retry_after: datetime.timedelta | None,
) -> None:
    error = classify(raw, title=title, payload={"error": raw})
    assert type(error) is cls
    assert error.raw == raw
    assert error.title == title
    assert error.retry_after == retry_after
    assert error.message == normalise(raw)
    assert error.message is not None
    assert "<a" not in error.message
    assert error.payload == {"error": raw}
    assert error.status_code is None


def test_quota_with_html_keeps_raw_and_strips_message() -> None:
    raw = (
        "You have exceeded your GPU quota (60s requested vs. 42s left). <a style="
        '"white-space: nowrap;text-underline-offset: 2px;color: var(--body-text-color)" '
        'href="https://huggingface.co/join">Create a free account</a> to get more daily '
        "usage quota."
    )
    error = classify(raw)
    assert isinstance(error, QuotaExceededError)
    assert error.raw == raw
    assert error.message == (
        "You have exceeded your GPU quota (60s requested vs. 42s left). Create a free account "
        "to get more daily usage quota."
    )


# -- classify: validation, unknown jobs, plain failures (§3.4, §4.2) ---------------------------


@pytest.mark.parametrize(
    ("raw", "title", "cls"),
    [
        ("Value 5000 is greater than maximum value 2048.", "Error", InputRejectedError),
        ("Value 4096 is greater than maximum value 2048.", "Error", InputRejectedError),
        ("Value 100 is less than minimum value 256.", "Error", InputRejectedError),
        ("Value -1 is less than minimum value 0.", "Error", InputRejectedError),
        ("Value 2147483648 is greater than maximum value 2147483647.", "Error", InputRejectedError),
        (
            "An event handler (infer) didn't receive enough input values (needed: 6, got: 5)",
            None,
            InputRejectedError,
        ),
        ("404: Not Found", None, EndpointNotFoundError),
        ("404: Session not found.", None, EndpointNotFoundError),
        ("Server stopped unexpectedly.", None, JobFailedError),
        # "quota" alone is not a quota error
        (
            "Replica gr.Error: simulated failure (e.g. quota or validation)",
            "Error",
            JobFailedError,
        ),
        ("'Replica gr.Error: simulated failure (e.g. quota or validation)'", None, JobFailedError),
        ("CUDA out of memory", "Error", JobFailedError),
    ],
)
def test_classify_other(raw: str, title: str | None, cls: type[ResponseError]) -> None:
    error = classify(raw, title=title)
    assert type(error) is cls
    assert error.raw == raw
    assert error.message == normalise(raw)
    assert error.title == title
    assert error.retry_after is None


def test_classify_plain_keeps_message_and_strips_gradio4_quotes() -> None:
    error = classify("'Replica gr.Error: simulated failure (e.g. quota or validation)'")
    assert isinstance(error, JobFailedError)
    assert error.message == "Replica gr.Error: simulated failure (e.g. quota or validation)"
    assert error.raw == "'Replica gr.Error: simulated failure (e.g. quota or validation)'"
    assert str(error) == "Replica gr.Error: simulated failure (e.g. quota or validation)"


def test_classify_none_is_job_failed_without_message() -> None:
    error = classify(None, title="Error", payload={"error": None})
    assert isinstance(error, JobFailedError)
    assert error.message is None
    assert error.raw is None
    assert error.title == "Error"
    assert error.payload == {"error": None}
    assert "no message" in str(error)


def test_classify_quota_title_names_itself_in_str() -> None:
    error = classify("You have exceeded your ZeroGPU runs limit.", title=QUOTA)
    assert str(error) == f"{QUOTA}: You have exceeded your ZeroGPU runs limit."


# -- classify_http (§9) -----------------------------------------------------------------------


def _from_transcript(name: str) -> ResponseError:
    transcript = load(name)
    return classify_http(
        transcript.status,
        transcript.body.encode(),
        content_type=transcript.headers.get("content-type", ""),
        retry_after=transcript.headers.get("retry-after"),
    )


@pytest.mark.parametrize(
    "name",
    [
        "gradio4/11-gradio_api-call-infer-post.txt",
        "gradio5/10-call-infer-noprefix-post.txt",
        "gradio6/10-post-call-infer-noprefix.txt",
        "gradio6/02-get-gradio_api-config.txt",
    ],
)
def test_http_404_is_endpoint_not_found(name: str) -> None:
    error = _from_transcript(name)
    assert type(error) is EndpointNotFoundError
    assert error.status_code == 404
    assert error.message == "Not Found"
    assert error.payload == {"detail": "Not Found"}
    assert str(error) == "HTTP 404: Not Found"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gradio6/32-post-call-missing-data-key.txt", "Field required"),
        ("gradio6/33-post-call-not-json.txt", "JSON decode error"),
    ],
)
def test_http_422_fastapi_detail_list(name: str, message: str) -> None:
    error = _from_transcript(name)
    assert type(error) is InputRejectedError
    assert error.status_code == 422
    assert error.message == message
    payload: object = error.payload
    assert isinstance(payload, dict)
    assert "detail" in cast("dict[str, object]", payload)


def test_http_422_joins_several_details() -> None:
    body = b'{"detail":[{"msg":"Field required","loc":["body","data"]},{"msg":"bad"},"odd"]}'
    error = classify_http(422, body, content_type="application/json")
    assert error.message == "Field required; bad; odd"


@pytest.mark.parametrize(
    "name",
    [
        "gradio6/concurrency/maxsize2-call-post-4.txt",
        "gradio6/concurrency/maxsize2-join-4.txt",
    ],
)
def test_http_503_queue_full(name: str) -> None:
    error = _from_transcript(name)
    assert type(error) is QueueFullError
    assert error.status_code == 503
    assert error.message == "Queue is full. Max size is 2 and size is 2."
    assert error.retry_after is None


def test_http_503_queue_full_gradio4() -> None:
    error = _from_transcript("gradio4/56-maxsize1-queue-join.txt")
    assert type(error) is QueueFullError
    assert error.message == "Queue is full. Max size is 1 and size is 1."


def test_http_429_retry_after_seconds() -> None:
    error = classify_http(
        429, b'{"error":"Too many requests"}', content_type="application/json", retry_after="30"
    )
    assert type(error) is RateLimitError
    assert error.status_code == 429
    assert error.message == "Too many requests"
    assert error.retry_after == datetime.timedelta(seconds=30)


def test_http_429_retry_after_http_date() -> None:
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
    header = email.utils.format_datetime(when, usegmt=True)
    error = classify_http(429, b"slow down", content_type="text/plain", retry_after=header)
    assert type(error) is RateLimitError
    assert error.retry_after is not None
    assert 8 * MIN < error.retry_after <= 10 * MIN


def test_http_429_retry_after_in_the_past_is_zero() -> None:
    error = classify_http(429, b"", retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    assert error.retry_after == datetime.timedelta(0)


def test_http_429_retry_after_garbage_is_none() -> None:
    error = classify_http(429, b"", retry_after="soon")
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None
    assert error.message is None


@pytest.mark.parametrize(
    "name", ["gradio6/31-post-unknown-api-name.txt", "gradio6/26-post-queue-join-bad-fn-index.txt"]
)
def test_http_500_text_plain(name: str) -> None:
    error = _from_transcript(name)
    assert type(error) is ResponseError
    assert error.status_code == 500
    assert error.message == "Internal Server Error"
    assert str(error) == "HTTP 500: Internal Server Error"


def test_http_html_error_page_uses_its_title() -> None:
    page = (
        b"<!DOCTYPE html><html><head><meta charset='utf-8'>"
        b"<title>502 Bad Gateway</title><style>body{}</style></head>"
        b"<body><h1>Bad Gateway</h1><p>The Space is restarting.</p></body></html>"
    )
    error = classify_http(502, page, content_type="text/html; charset=utf-8")
    assert type(error) is SpaceUnavailableError
    assert error.status_code == 502
    assert error.message == "502 Bad Gateway"
    assert error.payload == page.decode()


def test_http_html_without_title_is_summarised_without_tags() -> None:
    page = b"<html><body><h1>Space is sleeping</h1>" + b"<p>zzz</p>" * 200 + b"</body></html>"
    error = classify_http(502, page, content_type="text/html")
    assert type(error) is SpaceUnavailableError
    assert error.message is not None
    assert error.message.startswith("Space is sleepingzzz")
    assert "<" not in error.message
    assert len(error.message) <= 300


def test_http_503_that_is_not_a_full_queue_is_space_unavailable() -> None:
    page = b"<html><head><title>Space is building</title></head></html>"
    error = classify_http(503, page, content_type="text/html")
    assert type(error) is SpaceUnavailableError
    assert error.message == "Space is building"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (403, b'{"detail":"File not allowed: /etc/passwd."}', "File not allowed: /etc/passwd."),
        (405, b'{"detail":"Method Not Allowed"}', "Method Not Allowed"),
        (400, b'{"detail":"Session hash not found."}', "Session hash not found."),
        (401, b'{"message":"Invalid credentials"}', "Invalid credentials"),
        (500, b'"just a string"', "just a string"),
        (500, b"{not json", "{not json"),
        (500, b"", None),
    ],
)
def test_http_other_statuses(status: int, body: bytes, message: str | None) -> None:
    error = classify_http(status, body, content_type="application/json")
    assert type(error) is ResponseError
    assert error.status_code == status
    assert error.message == message


# -- every wording family of the spaces package, 0.26 to 0.51 (issue 12) ----------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Try again in 1 day, 2:03:04. ",
            datetime.timedelta(days=1, hours=2, minutes=3, seconds=4),
        ),
        ("Try again in 3 days, 0:00:01", datetime.timedelta(days=3, seconds=1)),
        ("Try again in 0:07:13.250000", datetime.timedelta(minutes=7, seconds=13.25)),
        ("Please retry in 0:00:09.5", datetime.timedelta(seconds=9.5)),
        # spaces 0.40-0.48: the runs limit says "Try again in 0:00:00": no usable time.
        ("Try again in 0:00:00", None),
        ("Try again in 0 days, 0:00:00.000000", None),
    ],
)
def test_retry_after_reads_every_timedelta_form(
    text: str, expected: datetime.timedelta | None
) -> None:
    assert parse_retry_after(text) == expected


RUNNNING_UNLOGGED = (
    "Unlogged user is runnning out of daily ZeroGPU quotas. Signup for free on "
    "https://huggingface.co/join or login on https://huggingface.co/login to get more ZeroGPU "
    "quota now."
)
RUNNNING_LOGGED = (
    "User is runnning out of daily ZeroGPU quotas. Visit https://huggingface.co/subscribe/pro "
    "to get more ZeroGPU quota now."
)


@pytest.mark.parametrize(
    ("raw", "title", "cls"),
    [
        # spaces 0.40-0.48 on Gradio 4 (and to MCP users): "runnning" is in the source.
        (RUNNNING_UNLOGGED, None, QuotaExceededError),
        (repr(RUNNNING_LOGGED), None, QuotaExceededError),
        (RUNNNING_LOGGED, QUOTA, QuotaExceededError),
        ("You have exceeded your runs limit.", QUOTA, QuotaExceededError),  # 0.48
        # pending credits without a title (Gradio 4)
        (
            "'You have too many ZeroGPU credits allocated to running tasks. Try again once some "
            "of those tasks have completed.'",
            None,
            QuotaExceededError,
        ),
        # spaces 0.22-0.28
        ("No GPU is currently available", None, GPUUnavailableError),
        ("'No GPU is currently available for you after 60s'", None, GPUUnavailableError),
        ("Internal infra error", None, GPUUnavailableError),
        # the text variant of an HTML toast (Gradio 4): Markdown links
        (
            "No GPU was available after 60s [Create a free account](https://huggingface.co/join) "
            "to get a higher priority in ZeroGPU queues.",
            None,
            GPUUnavailableError,
        ),
        # the app's own exception on a GPU it had: a failed job, not a GPU shortage
        ("RuntimeError", "ZeroGPU worker error", JobFailedError),
        ("OutOfMemoryError", "ZeroGPU worker error", JobFailedError),
        ("GPU task aborted", "ZeroGPU worker error", GPUUnavailableError),
    ],
)
def test_classify_every_spaces_wording(
    raw: str, title: str | None, cls: type[ResponseError]
) -> None:
    error = classify(raw, title=title)
    assert type(error) is cls
    assert error.raw == raw
    assert error.title == title
    message = error.message or ""
    assert "<" not in message
    assert "](" not in message
    assert not message.startswith(("'", '"'))


def test_a_worker_error_names_the_apps_exception() -> None:
    error = classify("OutOfMemoryError", title="ZeroGPU worker error")
    assert "OutOfMemoryError" in str(error)


def test_the_markdown_link_keeps_its_text() -> None:
    text = "No GPU was available after 60s [Create a free account](https://huggingface.co/join) ok"
    assert normalise(text) == "No GPU was available after 60s Create a free account ok"


def test_a_zero_wait_is_no_retry_after() -> None:
    error = classify(
        "You have exceeded your free GPU quota (60s requested vs. 0s left). Try again in 0:00:00",
        title=QUOTA,
    )
    assert type(error) is QuotaExceededError
    assert error.retry_after is None


def test_the_hubs_ratelimit_header_gives_the_retry_after() -> None:
    error = classify_http(
        429, b"Too Many Requests", content_type="text/plain", ratelimit='"api";r=0;t=55'
    )
    assert type(error) is RateLimitError
    assert error.retry_after == datetime.timedelta(seconds=55)


def test_retry_after_wins_over_the_ratelimit_header() -> None:
    error = classify_http(429, b"", retry_after="7", ratelimit='"api";r=0;t=55')
    assert error.retry_after == datetime.timedelta(seconds=7)
