"""The load suite: a real Gradio 6 replica with a high concurrency limit, shared by the module.

``FLUX_TEST_GRADIO`` names the server interpreters (``6=/path/to/python``, as for the
integration tests). Without a Gradio 6 interpreter the load tests are skipped, unless
``FLUX_REQUIRE_INTEGRATION=1`` (CI), where that is an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from flux_sdk.local import LocalSpace


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "load: hundreds of concurrent jobs against a real Gradio replica"
    )


def _gradio6() -> str | None:
    pairs = (item.split("=", 1) for item in os.environ.get("FLUX_TEST_GRADIO", "").split(","))
    return {label: python for label, python, *_ in (p for p in pairs if len(p) == 2)}.get("6")


@pytest.fixture(scope="module")
def busy_space() -> Iterator[str]:
    """A replica that runs up to 1000 jobs at once, tiny images, one step each."""
    python = _gradio6()
    if python is None:
        if os.environ.get("FLUX_REQUIRE_INTEGRATION") == "1":
            pytest.fail("FLUX_REQUIRE_INTEGRATION=1 but FLUX_TEST_GRADIO names no Gradio 6")
        pytest.skip("no Gradio 6 interpreter (set FLUX_TEST_GRADIO=6=/path/to/python)")
    # step_delay=0: the load tests measure the SDK, not sleeping steps.
    with LocalSpace(python=python, concurrency_limit=1000, scale=64, step_delay=0) as space:
        yield space.url


@pytest.fixture(autouse=True)
def no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
