"""Fixtures for the ``flux`` command's tests.

Its end-to-end tests use the shared replicas (``server``, ``dev_server`` in
``tests/conftest.py``, from ``tests/_servers.py``).
"""

from __future__ import annotations

import pytest

from tests._servers import Server

__all__ = ["Server"]


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own HF_TOKEN must not change what the tests see."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
