"""What a result file's response may be (pure)."""

from __future__ import annotations

# Generic binary types say nothing against an image: S3-style stores and plain file servers
# label what they do not recognise so. An error page always says what it is (text/html,
# application/json), and that is what this check is for.
_BINARY_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})


def is_image_type(content_type: str | None) -> bool:
    """Whether a download answered with ``content_type`` can be the image.

    An ``image/*`` type or a generic binary one; a missing Content-Type too, since it claims
    nothing (Gradio always sends one; a minimal file server may not).

    Example:
        >>> is_image_type("image/webp"), is_image_type("text/html; charset=utf-8")
        (True, False)
    """
    if content_type is None or not content_type.strip():
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("image/") or media_type in _BINARY_TYPES
