"""Real Gradio servers for the integration tests: the shared replicas of ``tests/_servers.py``.

The ``server`` fixture (one replica per Gradio line, in ``tests/conftest.py``) is shared with
the cli, g4f and lifecycle suites. ``Server`` and ``SERVERS`` are re-exported for the modules
that import them from here.
"""

from __future__ import annotations

import pytest

from tests._servers import SERVERS, Server, require_servers

__all__ = ["SERVERS", "Server"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test here talks to a real server, through `server` or a replica of its own.
    require_servers(items, lambda item: "tests/integration/" in item.path.as_posix())
