"""Fixtures for the unit tests: no HF_TOKEN leaks in, and a respx router for the Space."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from tests.unit._support import BASE


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own HF_TOKEN must not change what the tests see."""
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Mocks every httpx request; routes are relative to the fake Space at ``BASE``."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock
