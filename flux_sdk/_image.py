"""Images as users want them: the Space's bytes as a Pillow image, or re-encoded as PNG or JPEG.

Pure functions over bytes, no I/O. Pillow is optional (the ``pil`` extra) and imported only when
one of these functions runs, so ``import flux_sdk`` never pays for it.
"""

from __future__ import annotations

import importlib
import io
from typing import TYPE_CHECKING, Final

from ._errors import MissingExtraError, ProtocolError

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["IMAGE_FORMATS", "encode_image", "require_pillow", "to_pil_image"]

IMAGE_FORMATS: Final[dict[str, str | None]] = {
    ".webp": None,
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
}
"""Each file extension ``flux generate -o`` writes, and its Pillow format; None: as served."""


def require_pillow(feature: str = "converting images") -> None:
    """Check that Pillow can be imported, before any work that would need it.

    Args:
        feature: What needs it, for the message (e.g. ``"client.image()"``).

    Raises:
        MissingExtraError: Pillow is not installed; the message names the ``pil`` extra.
    """
    try:
        importlib.import_module("PIL.Image")
    except ImportError as exc:
        raise MissingExtraError("pil", "Pillow", feature) from exc


def to_pil_image(data: bytes) -> Image.Image:
    """The image in ``data`` (as `download` returns it), decoded and loaded into memory.

    The image is read at once, not lazily, so it does not depend on ``data`` afterwards and a
    broken file fails here rather than on first use.

    Args:
        data: An encoded image: WebP from the FLUX Spaces, or any format Pillow reads.

    Returns:
        A loaded `PIL.Image.Image`.

    Raises:
        MissingExtraError: Pillow is not installed (``pip install 'flux-sdk[pil]'``).
        ProtocolError: ``data`` is not an image Pillow can decode, or is too large to decode
            safely (Pillow's decompression bomb limit).

    Example:
        >>> image = to_pil_image(client.download(generation))  # doctest: +SKIP
        >>> image.size  # doctest: +SKIP
        (768, 512)
    """
    require_pillow()
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        # OSError covers UnidentifiedImageError and truncated files.
        raise ProtocolError(f"the image could not be decoded: {exc}") from exc
    return image


def encode_image(data: bytes, pil_format: str) -> bytes:
    """``data`` re-encoded as ``pil_format`` (``"PNG"`` or ``"JPEG"``, see `IMAGE_FORMATS`).

    JPEG has no alpha channel or palette: the image is converted to RGB first.

    Raises:
        MissingExtraError: Pillow is not installed.
        ProtocolError: ``data`` is not an image Pillow can decode.
    """
    image = to_pil_image(data)
    if pil_format == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=pil_format)
    return out.getvalue()
