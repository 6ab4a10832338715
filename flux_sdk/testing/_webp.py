"""Tiny, valid, solid-colour WebP images, encoded by hand (no Pillow needed).

A lossless (VP8L) bitstream whose five prefix codes each hold a single symbol needs no bits per
pixel, so an image of any size in one colour is a few dozen bytes. Decoders (libwebp, Pillow,
browsers) read it like any other WebP.
"""

from __future__ import annotations

import struct

__all__ = ["solid_webp"]

_MAX_SIDE = 16384  # VP8L stores width - 1 and height - 1 in 14 bits each


class _Bits:
    """An LSB-first bit writer, as VP8L packs its fields."""

    def __init__(self) -> None:
        self._value = 0
        self._count = 0

    def put(self, value: int, width: int) -> None:
        self._value |= (value & ((1 << width) - 1)) << self._count
        self._count += width

    def to_bytes(self) -> bytes:
        return self._value.to_bytes((self._count + 7) // 8, "little")


def _single_symbol_code(bits: _Bits, symbol: int) -> None:
    """A "simple" prefix code with one symbol: it costs zero bits per use."""
    bits.put(1, 1)  # simple code
    bits.put(0, 1)  # one symbol
    if symbol < 2:
        bits.put(0, 1)  # the symbol fits in 1 bit
        bits.put(symbol, 1)
    else:
        bits.put(1, 1)  # the symbol takes 8 bits
        bits.put(symbol, 8)


def solid_webp(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A lossless WebP of ``width`` x ``height`` pixels, all of colour ``rgb``.

    Args:
        width: Pixels across; clamped to 1..16384.
        height: Pixels down; clamped to 1..16384.
        rgb: The colour, three integers from 0 to 255.

    Returns:
        The complete RIFF/WebP file.
    """
    width = min(max(width, 1), _MAX_SIDE)
    height = min(max(height, 1), _MAX_SIDE)
    red, green, blue = (channel & 0xFF for channel in rgb)
    bits = _Bits()
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(0, 1)  # alpha is not used
    bits.put(0, 3)  # version 0
    bits.put(0, 1)  # no transforms
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    # green (+ length prefixes), red, blue, alpha, distance
    for symbol in (green, red, blue, 0xFF, 0):
        _single_symbol_code(bits, symbol)
    payload = b"\x2f" + bits.to_bytes()
    # The chunk size counts the payload; an odd payload is followed by one padding byte.
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
