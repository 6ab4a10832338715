"""Request bodies for the Gradio routes (pure, §3.1, §4.1, §4.4)."""

from __future__ import annotations


def call_body(data: list[object]) -> dict[str, object]:
    """Body of ``POST {prefix}/call/{api_name}``: every input, all sent (null is no default)."""
    return {"data": data}


def join_body(data: list[object], fn_index: int, session_hash: str) -> dict[str, object]:
    """Body of ``POST {prefix}/queue/join``, as the official client sends it."""
    return {"data": data, "fn_index": fn_index, "session_hash": session_hash}


def cancel_body(fn_index: int, session_hash: str, event_id: str) -> dict[str, object]:
    """Body of ``POST {prefix}/cancel``; a ``/call/`` job's session_hash is its event_id."""
    return {"fn_index": fn_index, "session_hash": session_hash, "event_id": event_id}
