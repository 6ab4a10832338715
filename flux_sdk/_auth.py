"""The Hugging Face token: sent to the Space's own origin only, never shown."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable

import httpx


def resolve_token(token: str | None) -> str | None:
    """The explicit token, else ``HF_TOKEN`` from the environment, else None."""
    if token is not None:
        return token or None
    return os.environ.get("HF_TOKEN") or None


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and effective port: what decides whether a URL is the Space's."""
    port = url.port
    if port is None:
        port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, port)


class SpaceTokenAuth(httpx.Auth):
    """Adds the token to requests for the Spaces' origins, and to nothing else.

    Applied per request, so a result URL or a redirect to another host never carries it.
    Current gradio_client sends ``X-HF-Authorization`` because the Space proxy strips
    ``Authorization`` (§6, gradio PR #11700); so do we.
    """

    def __init__(self, token: str, spaces: Iterable[httpx.URL]) -> None:
        self._header = f"Bearer {token}"
        self._origins = frozenset(origin(url) for url in spaces)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin(request.url) in self._origins:
            request.headers["X-HF-Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "SpaceTokenAuth(token=<hidden>)"
