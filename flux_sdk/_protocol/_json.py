"""Typed views of decoded JSON, so the decoders never index into an unknown shape."""

from __future__ import annotations

import json
from typing import cast

from .._errors import ProtocolError

JSONObject = dict[str, object]


def loads(data: str | bytes) -> object:
    """Decode JSON, or raise `ProtocolError` quoting the start of what came."""
    try:
        return cast(object, json.loads(data))
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile deep nesting
        raise ProtocolError(f"malformed JSON from the Space: {data[:200]!r}") from exc


def as_object(value: object) -> JSONObject | None:
    """``value`` as a JSON object, or None when it is something else."""
    return cast(JSONObject, value) if isinstance(value, dict) else None


def as_list(value: object) -> list[object] | None:
    """``value`` as a JSON array, or None when it is something else."""
    return cast("list[object]", value) if isinstance(value, list) else None
