"""Properties of error classification: every payload becomes a `ResponseError`, message kept.

Whatever a Space or its proxy says about a failure (text, None, a dict with any ``error`` and
``title``, JSON, an HTML page, quotes), `classify` and `classify_http` return a `ResponseError`
subclass and never raise; the message survives normalisation (quotes, tags and runs of
whitespace are the only things taken out).
"""

from __future__ import annotations

import datetime
import json
import re
from email.utils import format_datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flux_sdk import ProtocolError, QuotaExceededError, ResponseError
from flux_sdk._protocol import classify, classify_http, decode_call, decode_queue, normalise
from tests.property._strategies import EVENT_ID, JOB, json_values

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text with no markup, entities, quotes or escapes: normalisation may only fold its whitespace.
plain = st.text(
    st.characters(blacklist_characters="<>&'\"\\", blacklist_categories=["Cs"]), max_size=200
)
markup = st.text(
    st.characters(blacklist_characters="&'\"\\", blacklist_categories=["Cs"]), max_size=200
)
anything = st.text(max_size=300)
titles = (
    st.none()
    | st.sampled_from(
        ["Error", "ZeroGPU quota exceeded", "ZeroGPU queue timeout", "ZeroGPU worker error"]
    )
    | st.text(max_size=30)
)
STATUSES = st.integers(400, 599)
CONTENT_TYPES = st.sampled_from(
    ["", "application/json", "text/html; charset=utf-8", "text/plain", "application/problem+json"]
)
RETRY_AFTER = st.none() | st.sampled_from(
    [
        "1e400",
        "nan",
        "inf",
        "0",
        "0.01",
        "7",
        "-3",
        "soon",
        "",
        format_datetime(datetime.datetime(2001, 1, 1)),
    ]
)


def folded(text: str) -> str:
    return " ".join(text.split())


# -- classify: in-stream errors -----------------------------------------------------------------


@PROPERTY
@given(raw=st.none() | anything, title=titles, payload=json_values)
@example(raw="'", title=None, payload=None)
@example(raw="<a href='x'>", title="ZeroGPU quota exceeded", payload=None)
@example(raw="Try again in 0:06:53", title="ZeroGPU quota exceeded", payload=None)
def test_classify_always_gives_a_response_error(
    raw: str | None, title: str | None, payload: object
) -> None:
    error = classify(raw, title=title, payload=payload)
    assert isinstance(error, ResponseError)
    assert error.raw == raw
    assert error.title == title
    assert (error.message is None) == (raw is None)
    if error.message:
        assert error.message in str(error)
    if isinstance(error, QuotaExceededError) and error.retry_after is not None:
        assert error.retry_after.total_seconds() >= 0


@PROPERTY
@given(raw=plain, title=titles)
def test_plain_messages_are_kept_with_whitespace_folded(raw: str, title: str | None) -> None:
    assert classify(raw, title=title).message == folded(raw)


@PROPERTY
@given(message=plain)
def test_gradio4_quoted_messages_are_unwrapped(message: str) -> None:
    # Gradio 4.44's gr.Error.__str__ is repr(message) (§4.2).
    assert classify(repr(message)).message == folded(message)


@PROPERTY
@given(before=plain, link=plain, after=plain)
def test_html_is_stripped_and_the_text_kept(before: str, link: str, after: str) -> None:
    raw = f'{before} <a style="x" href="https://huggingface.co/join">{link}</a> {after}'
    assert classify(raw).message == folded(f"{before} {link} {after}")


@PROPERTY
@given(raw=markup)
@example(raw="a<b>c</b>d < e")
def test_tags_are_the_only_thing_taken_out(raw: str) -> None:
    # Text with tags but no entities, quotes or escapes: what is outside the tags stays.
    message = classify(raw).message
    assert message == folded(re.sub(r"<[^>]*>", "", raw))
    if folded(re.sub(r"<[^>]*>", "", raw)):
        assert message


@PROPERTY
@given(
    error=st.none() | anything,
    title=titles,
    extra=st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)
def test_error_payloads_on_both_protocols_become_response_errors(
    error: str | None, title: str | None, extra: dict[str, object]
) -> None:
    payload: dict[str, object] = {**extra, "error": error, "title": title}
    on_call = decode_call("error", json.dumps(payload), JOB)
    completed = {
        "msg": "process_completed",
        "event_id": EVENT_ID,
        "output": payload,
        "success": False,
        "title": title,
    }
    on_queue = decode_queue(json.dumps(completed), JOB)
    for decoded in (on_call, on_queue):
        assert isinstance(decoded, ResponseError)
        assert decoded.message == normalise(error)


# -- classify_http: HTTP error responses ---------------------------------------------------------


@PROPERTY
@given(
    status=STATUSES, body=st.binary(max_size=2000), content_type=CONTENT_TYPES, retry=RETRY_AFTER
)
@example(status=503, body=b"<html><title></title></html>", content_type="text/html", retry=None)
@example(status=429, body=b'{"detail": [1, {"msg": 2}]}', content_type="", retry="-3")
def test_classify_http_always_gives_a_response_error(
    status: int, body: bytes, content_type: str, retry: str | None
) -> None:
    error = classify_http(status, body, content_type=content_type, retry_after=retry)
    assert isinstance(error, ResponseError)
    assert error.status_code == status
    assert error.message is None or len(error.message) <= 300
    if error.retry_after is not None:
        assert error.retry_after.total_seconds() >= 0


@PROPERTY
@given(
    status=STATUSES,
    key=st.sampled_from(["detail", "error", "message"]),
    text=plain.filter(lambda t: t.strip() != ""),
    content_type=CONTENT_TYPES,
)
def test_json_error_text_is_kept(status: int, key: str, text: str, content_type: str) -> None:
    body = json.dumps({key: text, "other": 1}).encode()
    error = classify_http(status, body, content_type=content_type)
    assert error.message == folded(text)[:299] + ("…" if len(folded(text)) > 300 else "")


@PROPERTY
@given(status=STATUSES, title=plain.filter(lambda t: t.strip() != ""), body=plain)
def test_html_pages_are_summarised_by_their_title(status: int, title: str, body: str) -> None:
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"
    error = classify_http(status, page.encode(), content_type="text/html")
    assert error.message == folded(title)[:299] + ("…" if len(folded(title)) > 300 else "")


@PROPERTY
@given(status=STATUSES, text=plain.filter(lambda t: t.strip() != "" and t.strip()[0] not in '{["'))
def test_plain_text_bodies_are_kept(status: int, text: str) -> None:
    error = classify_http(status, text.encode(), content_type="text/plain")
    assert error.message == folded(text)[:299] + ("…" if len(folded(text)) > 300 else "")


@pytest.mark.parametrize("raw", ['"' * 2, "'" * 2, "' '", '"\\n"'])
def test_quotes_around_nothing_give_an_empty_message(raw: str) -> None:
    # repr("") and friends: the message really was empty.
    assert classify(raw).message == ""


def test_a_protocol_error_is_not_a_response_error() -> None:
    # The decoders' only other outcome, for the record.
    assert not issubclass(ProtocolError, ResponseError)


@pytest.mark.parametrize("value", ["1e400", "inf", "nan", "1e20"])
def test_absurd_retry_after_headers_give_a_response_error(value: str) -> None:
    try:
        error = classify_http(429, b"slow down", retry_after=value)
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc}") from None
    assert isinstance(error, ResponseError)
