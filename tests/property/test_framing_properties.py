"""`ResponseFraming` ends each response where h11 does, however the bytes are split.

h11 (the parser under httpcore) is the oracle: for any response it can parse, followed or not
by stray bytes, a connection is reusable exactly when h11 has nothing left in its buffer once
the response has ended.
"""

from __future__ import annotations

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flux_sdk._protocol._framing import ResponseFraming

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A request method and the bytes of a response to it that h11 accepts."""
    method = draw(st.sampled_from([b"GET", b"POST", b"HEAD"]))
    interim = draw(st.lists(st.just(b"HTTP/1.1 100 Continue\r\n\r\n"), max_size=2))
    status = draw(st.sampled_from([200, 201, 204, 304, 404, 500]))
    framing = draw(st.sampled_from(["length", "chunked"]))
    body = draw(st.binary(max_size=300))
    headers = [b"HTTP/1.1 %d X" % status, b"server: test"]
    bodiless = method == b"HEAD" or status in (204, 304)
    if framing == "length":
        headers.append(b"Content-Length: %d" % len(body))
        encoded = body
    else:
        headers.append(b"Transfer-Encoding: chunked")
        sizes = draw(st.lists(st.integers(1, 64), max_size=6))
        encoded, rest = b"", body
        for size in sizes:
            piece, rest = rest[:size], rest[size:]
            if piece:
                extension = draw(st.sampled_from([b"", b";name=value"]))
                encoded += b"%x%s\r\n%s\r\n" % (len(piece), extension, piece)
        trailers = draw(st.sampled_from([b"", b"x-trailer: 1\r\n"]))
        encoded += b"0\r\n" + trailers + b"\r\n"
    head = b"\r\n".join(headers) + b"\r\n\r\n"
    return method, b"".join(interim) + head + (b"" if bodiless else encoded)


def _h11_leftover(method: bytes, response: bytes) -> bytes:
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method=method, target="/", headers=[("host", "a")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(response)
    while True:
        event = connection.next_event()
        if isinstance(event, h11.EndOfMessage):
            return connection.trailing_data[0]
        assert event is not h11.NEED_DATA, "the strategy made a response h11 cannot finish"


def _feed(method: bytes, data: bytes, cuts: list[int]) -> ResponseFraming:
    framing = ResponseFraming()
    framing.sent(method + b" / HTTP/1.1\r\nhost: a\r\n\r\n")
    start = 0
    for cut in sorted(cuts):
        framing.received(data[start:cut])
        start = cut
    framing.received(data[start:])
    return framing


@PROPERTY
@given(
    response=responses(),
    surplus=st.binary(max_size=20),
    cuts=st.lists(st.integers(0, 2000), max_size=8),
)
def test_reusable_exactly_when_h11_has_nothing_left(
    response: tuple[bytes, bytes], surplus: bytes, cuts: list[int]
) -> None:
    method, data = response
    leftover = _h11_leftover(method, data + surplus)
    framing = _feed(method, data + surplus, [cut % (len(data) + len(surplus) + 1) for cut in cuts])
    assert framing.reusable is (leftover == b"")


@PROPERTY
@given(first=responses(), second=responses())
def test_a_kept_alive_connection_carries_response_after_response(
    first: tuple[bytes, bytes], second: tuple[bytes, bytes]
) -> None:
    framing = _feed(*first, [])
    framing.sent(second[0] + b" / HTTP/1.1\r\nhost: a\r\n\r\n")
    framing.received(second[1])
    assert framing.reusable


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\n\r\nuntil the connection ends",  # no length: not kept by h11 either
        b"HTTP/1.1 200 OK\r\ncontent-length: many\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-5\r\nabc",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcXY\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n",
        b"no status line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx-huge: " + b"a" * 70_000,
    ],
)
def test_what_cannot_be_followed_is_never_reused(response: bytes) -> None:
    assert not _feed(b"GET", response, []).reusable


def test_bytes_before_any_request_spoil_the_connection() -> None:
    framing = ResponseFraming()
    framing.received(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert not framing.reusable


def test_the_end_of_the_connection_is_not_a_stray_byte() -> None:
    framing = _feed(b"GET", b"HTTP/1.1 204 No Content\r\n\r\n", [])
    framing.received(b"")
    assert framing.reusable
