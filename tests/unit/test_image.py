"""`flux_sdk._image`: the Space's bytes as a Pillow image, PNG or JPEG; Pillow missing."""

from __future__ import annotations

import io
import pickle
import sys

import pytest
from PIL import Image

from flux_sdk import FluxError, MissingExtraError, ProtocolError
from flux_sdk._image import IMAGE_FORMATS, encode_image, require_pillow, to_pil_image


def _webp(mode: str = "RGB", size: tuple[int, int] = (48, 32)) -> bytes:
    """A WebP like the Space's: lossless, so the pixels can be compared."""
    image = Image.new(mode, size, (200, 30, 60, 128)[: len(mode)])
    out = io.BytesIO()
    image.save(out, format="WEBP", lossless=True)
    return out.getvalue()


def _noise_webp() -> bytes:
    """A WebP whose pixels do not compress away, so that cutting it truncates pixel data."""
    image = Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48)
    out = io.BytesIO()
    image.save(out, format="WEBP", lossless=True)
    return out.getvalue()


WEBP = _webp()
"""Made before any test hides Pillow."""


@pytest.fixture
def no_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow made unimportable (a None in sys.modules), as in an install without [pil]."""
    for name in [name for name in sys.modules if name == "PIL" or name.startswith("PIL.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "PIL", None)


def test_to_pil_image_decodes_and_loads_the_image() -> None:
    data = bytearray(_webp())
    image = to_pil_image(bytes(data))
    assert isinstance(image, Image.Image)
    assert (image.format, image.size, image.mode) == ("WEBP", (48, 32), "RGB")
    data[:] = b""  # loaded, not lazy: nothing is read from the bytes afterwards
    assert image.getpixel((0, 0)) == (200, 30, 60)


@pytest.mark.parametrize(
    "data", [b"", b"not an image", _noise_webp()[:-200]], ids=["empty", "text", "cut"]
)
def test_bytes_that_are_not_an_image_are_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="could not be decoded"):
        to_pil_image(data)


def test_a_decompression_bomb_is_a_protocol_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # the 48×32 image is > 2× this
    with pytest.raises(ProtocolError, match="could not be decoded"):
        to_pil_image(_webp())


@pytest.mark.parametrize(("suffix", "mode"), [(".png", "RGBA"), (".jpg", "RGBA"), (".jpeg", "RGB")])
def test_encode_image_converts_to_the_extensions_format(suffix: str, mode: str) -> None:
    pil_format = IMAGE_FORMATS[suffix]
    assert pil_format is not None
    encoded = encode_image(_webp(mode), pil_format)
    with Image.open(io.BytesIO(encoded)) as image:
        assert (image.format, image.size) == (pil_format, (48, 32))
        # JPEG has no alpha: converted to RGB; PNG keeps the mode.
        assert image.mode == ("RGB" if pil_format == "JPEG" else mode)


def test_webp_is_written_as_served() -> None:
    assert IMAGE_FORMATS[".webp"] is None


def test_without_pillow_the_error_names_the_extra(no_pillow: None) -> None:
    with pytest.raises(MissingExtraError) as caught:
        to_pil_image(WEBP)
    assert "pip install 'flux-sdk[pil]'" in str(caught.value)
    assert (caught.value.extra, caught.value.package) == ("pil", "Pillow")
    with pytest.raises(MissingExtraError):
        require_pillow()
    with pytest.raises(ImportError):  # also an ImportError, for `except ImportError` users
        encode_image(b"", "PNG")


def test_missing_extra_error_is_a_flux_error_and_pickles() -> None:
    error = MissingExtraError("pil", "Pillow", "converting images")
    assert isinstance(error, FluxError)
    assert isinstance(error, ImportError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is MissingExtraError
    assert str(copy) == str(error) == "converting images needs Pillow: pip install 'flux-sdk[pil]'"
    assert (copy.extra, copy.package, copy.feature) == ("pil", "Pillow", "converting images")
