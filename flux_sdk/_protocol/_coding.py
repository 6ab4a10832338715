"""Content-Encoding undone in bounded pieces, so a cap can stop a bomb while it inflates (pure).

httpx inflates a whole network read at once: a few KB of ``gzip, gzip`` can become hundreds of
MiB before the caller sees a byte. `BodyDecoder` instead hands out the decoded body one piece
of at most ``piece`` bytes at a time, lazily, each layer asked for no more than that, so the
caller checks its cap after every piece and memory stays at a few pieces whatever the ratio.

gzip and deflate are always read (zlib, with ``max_length``); br when the ``brotli`` package
(1.2 or later, which can bound its output) is installed, zstd when ``compression.zstd``
(Python 3.14) or ``backports.zstd`` is; only those are advertised (`accept_encoding`). Anything
else raises `ProtocolError` naming the encoding.
"""

from __future__ import annotations

import functools
import importlib
import zlib
from collections.abc import Iterator
from typing import Protocol, cast

from .._errors import ProtocolError

DEFAULT_PIECE = 64 * 1024
# RFC 8878 §3.1.1.1.2: a zstd HTTP decoder need not accept windows over 8 MiB; the default
# would let a frame header ask for 128 MiB.
_ZSTD_WINDOW_LOG_MAX = 23
# Each layer keeps a window (32 KiB for zlib, up to 16 MiB for br): a header listing hundreds
# of codings must not make hundreds of decoders. Real servers apply one.
_MAX_LAYERS = 4


class _Layer(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]:
        """The output ``data`` makes available, in pieces."""
        ...

    def finish(self) -> Iterator[bytes]:
        """The rest of the output; raises `ProtocolError` if the coded stream is incomplete."""
        ...


class BodyDecoder:
    """Undo a response's ``Content-Encoding``, one bounded piece at a time.

    Example:
        >>> import gzip
        >>> decoder = BodyDecoder("gzip", piece=4)
        >>> list(decoder.feed(gzip.compress(b"0123456789"))) + list(decoder.finish())
        [b'0123', b'4567', b'89']
    """

    def __init__(self, content_encoding: str, piece: int = DEFAULT_PIECE) -> None:
        self._piece = piece
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [coding for coding in codings if coding not in ("", "identity")]
        if len(codings) > _MAX_LAYERS:
            raise ProtocolError(
                f"the Space sent a body in {len(codings)} stacked encodings; "
                f"flux-sdk reads at most {_MAX_LAYERS}"
            )
        # The header lists the codings in the order they were applied: undo the last first.
        self._layers = [_layer(coding, piece) for coding in reversed(codings)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces ``data`` completes; stop iterating at any time to stop decoding."""
        return self._through(0, data)

    def finish(self) -> Iterator[bytes]:
        """The decoded pieces left at the end of the body."""
        for index, layer in enumerate(self._layers):
            for out in layer.finish():
                yield from self._through(index + 1, out)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._layers):
            # Not encoded (any more): only cut into pieces.
            for start in range(0, len(data), self._piece):
                yield data[start : start + self._piece]
            return
        for out in self._layers[index].feed(data):
            yield from self._through(index + 1, out)


def accept_encoding() -> str:
    """The ``Accept-Encoding`` to send: only what `BodyDecoder` can read within bounds."""
    codings = ["gzip", "deflate"]
    if _brotli() is not None:
        codings.append("br")
    if _zstd() is not None:
        codings.append("zstd")
    return ", ".join(codings)


def _layer(coding: str, piece: int) -> _Layer:
    if coding in ("gzip", "x-gzip"):
        return _Zlib("gzip", piece)
    if coding == "deflate":
        return _Zlib("deflate", piece)
    if coding == "br" and (brotli := _brotli()) is not None:
        return _Brotli(brotli, piece)
    if coding == "zstd" and (zstd := _zstd()) is not None:
        return _Zstd(zstd, piece)
    raise ProtocolError(
        f"the Space sent a body in an encoding flux-sdk cannot read: {coding!r:.50}"
    )


# One Protocol per library, each as that library spells its decompressor: zlib's and
# compression.zstd's differ in their properties and in decompress's arguments.
class _Inflate(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


class _Zlib:
    """gzip or deflate, through zlib with a bound on each call's output.

    gzip members may follow one another (RFC 1952 §2.2); deflate is zlib-wrapped as RFC 9110
    says, or raw, as some servers send it.
    """

    def __init__(self, coding: str, piece: int) -> None:
        self._coding = coding
        self._piece = piece
        self._head = b""
        self._inflate: _Inflate | None = None
        self._seen = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._seen = True
        if self._inflate is None:
            data = self._head + data
            if self._coding == "deflate" and len(data) < 2:
                self._head = data
                return
            self._inflate = zlib.decompressobj(self._wbits(data))
        inflate = self._inflate
        more = True
        while True:
            if inflate.eof:
                rest = inflate.unused_data + data
                if self._coding != "gzip" or not rest:
                    # Bytes after a deflate stream's end mean nothing; the stream is complete.
                    return
                inflate = self._inflate = zlib.decompressobj(self._wbits(rest))
                data = rest
            elif not data and not more:
                return
            try:
                out = inflate.decompress(data, self._piece)
            except zlib.error as exc:
                raise ProtocolError(
                    f"the Space sent a corrupt {self._coding} body: {exc}"
                ) from None
            data = inflate.unconsumed_tail
            # A full piece may leave output in zlib without more input: ask again.
            more = len(out) == self._piece
            if out:
                yield out

    def finish(self) -> Iterator[bytes]:
        if not self._seen:
            return  # an empty body: nothing was encoded
        if self._inflate is None or not self._inflate.eof:
            raise ProtocolError(f"the Space sent a truncated {self._coding} body")
        yield from ()

    def _wbits(self, data: bytes) -> int:
        if self._coding == "gzip":
            return 16 + zlib.MAX_WBITS
        # A zlib header: compression method 8 and a check value (RFC 1950 §2.2).
        zlib_wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        return zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS


class _BrotliDecompressor(Protocol):
    def process(self, data: bytes, output_buffer_limit: int = ...) -> bytes: ...
    def can_accept_more_data(self) -> bool: ...
    def is_finished(self) -> bool: ...


class _BrotliModule(Protocol):
    error: type[Exception]

    def Decompressor(self) -> _BrotliDecompressor: ...


class _Brotli:
    def __init__(self, brotli: _BrotliModule, piece: int) -> None:
        self._brotli = brotli
        self._decompressor = brotli.Decompressor()
        self._piece = piece
        self._seen = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._seen = True
        decompressor = self._decompressor
        try:
            out = decompressor.process(data, output_buffer_limit=self._piece)
            # With its output buffer full it holds on to the input (and may hold output):
            # drain it with empty input before giving it more.
            while out:
                yield out
                if len(out) < self._piece and decompressor.can_accept_more_data():
                    break
                out = decompressor.process(b"", output_buffer_limit=self._piece)
        except self._brotli.error as exc:
            raise ProtocolError(f"the Space sent a corrupt br body: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        if self._seen and not self._decompressor.is_finished():
            raise ProtocolError("the Space sent a truncated br body")
        yield from ()


class _ZstdDecompressor(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


class _ZstdModule(Protocol):
    ZstdError: type[Exception]

    def ZstdDecompressor(
        self, zstd_dict: object = ..., options: dict[object, int] | None = ...
    ) -> _ZstdDecompressor: ...

    @property
    def DecompressionParameter(self) -> _ZstdParameters: ...


class _ZstdParameters(Protocol):
    @property
    def window_log_max(self) -> object: ...


class _Zstd:
    """zstd; frames may follow one another (RFC 8878 §3.1)."""

    def __init__(self, zstd: _ZstdModule, piece: int) -> None:
        self._zstd = zstd
        self._piece = piece
        self._decompressor = self._new()
        self._seen = False

    def _new(self) -> _ZstdDecompressor:
        window = self._zstd.DecompressionParameter.window_log_max
        return self._zstd.ZstdDecompressor(options={window: _ZSTD_WINDOW_LOG_MAX})

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        self._seen = True
        try:
            while True:
                if self._decompressor.eof:
                    # The next frame, if any, starts with what the last one left.
                    data = self._decompressor.unused_data + data
                    if not data:
                        return
                    self._decompressor = self._new()
                out = self._decompressor.decompress(data, self._piece)
                data = b""
                if out:
                    yield out
                if self._decompressor.needs_input and not self._decompressor.eof:
                    return
        except self._zstd.ZstdError as exc:
            raise ProtocolError(f"the Space sent a corrupt zstd body: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        if self._seen and not self._decompressor.eof:
            raise ProtocolError("the Space sent a truncated zstd body")
        yield from ()


@functools.cache
def _brotli() -> _BrotliModule | None:
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        return None
    # Before 1.2 its output cannot be bounded: one small input may inflate without limit.
    if not hasattr(module.Decompressor(), "can_accept_more_data"):
        return None
    return cast(_BrotliModule, module)


@functools.cache
def _zstd() -> _ZstdModule | None:
    for name in ("compression.zstd", "backports.zstd"):
        try:
            return cast(_ZstdModule, importlib.import_module(name))
        except ImportError:
            continue
    return None
