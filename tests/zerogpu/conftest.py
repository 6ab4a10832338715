"""Real Gradio servers running real `spaces` versions (``_app.py``), one per (version, line).

``FLUX_TEST_SPACES`` names an unpacked copy of each `spaces` version
(``0.28.3=/dir,0.51.3=/dir,...``; ``nox -s tests`` installs them into ``.nox/spaces/``), and
``FLUX_TEST_GRADIO`` the interpreter of each Gradio line, as for tests/integration. A pair of
`PAIRS` that either leaves out is skipped, unless ``FLUX_REQUIRE_INTEGRATION=1`` (CI), where
that is a failure.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flux_sdk.local import LocalSpace
from tests._servers import SERVERS, Server

_APP = Path(__file__).with_name("_app.py")

PAIRS: tuple[tuple[str, str], ...] = (
    # (spaces version, Gradio line): each version with the lines its code supports. 0.26-0.28
    # refuse anything but Gradio 4; spaces < 0.51 imports psutil, which only the Gradio 4 and 5
    # servers have; the worker of 0.32 reads a progress context Gradio 5 sets only when infer
    # takes a gr.Progress, as the Space's does.
    ("0.26.2", "4"),
    ("0.28.3", "4"),
    ("0.30.4", "4"),
    ("0.32.0", "4"),
    ("0.32.0", "5"),
    ("0.45.0", "4"),
    ("0.45.0", "5"),
    ("0.48.3", "5"),
    ("0.51.3", "4"),
    ("0.51.3", "5"),
    ("0.51.3", "6"),
)


def _spaces_dirs() -> dict[str, str]:
    configured = os.environ.get("FLUX_TEST_SPACES", "")
    pairs = (item.split("=", 1) for item in configured.split(",") if item)
    return {version: directory for version, directory in pairs}


def _line_interpreters() -> dict[str, str]:
    """Gradio line → interpreter; the test environment's own Gradio counts as its line."""
    lines = dict(SERVERS)
    if "local" in lines:
        lines.setdefault(importlib.metadata.version("gradio").split(".")[0], lines.pop("local"))
    return lines


SPACES = _spaces_dirs()
LINES = _line_interpreters()


class ZeroGPUSpace(LocalSpace):
    """``_app.py`` with one `spaces` version, started like the local Space."""

    def __init__(self, *, python: str, spaces_dir: str) -> None:
        super().__init__(python=python, startup_timeout=180.0)
        self.spaces_dir = spaces_dir
        self.record: Path | None = None

    def _command(self, port: int) -> list[str]:
        return [self.python, str(_APP), "--port", str(port)]

    def _environment(self, workdir: str) -> dict[str, str]:
        env = super()._environment(workdir)
        env["PYTHONPATH"] = self.spaces_dir
        # spaces keeps its offload directory and clean-up links under ~/.zerogpu.
        env["HOME"] = workdir
        self.record = Path(workdir, "raised.jsonl")
        env["FLUX_ZEROGPU_RECORD"] = str(self.record)
        return env


@dataclass(frozen=True)
class Raised:
    """A ``gr.Error`` the app raised, as ``_app.py`` recorded it."""

    text: str
    """``str(error)``: what Gradio 4 sends."""
    message: str
    """The error's message as a plain str: what Gradio 5 and 6 send (an HTMLString's HTML)."""
    title: str | None


@dataclass(frozen=True)
class ZeroGPUServer(Server):
    """A running ``_app.py``: its URL, Gradio version and `spaces` version."""

    spaces: str = ""
    record: Path | None = None

    @property
    def spaces_version(self) -> tuple[int, int]:
        major, minor = self.spaces.split(".")[:2]
        return int(major), int(minor)

    def raised(self, prompt: str) -> Raised | None:
        """What the app raised for ``prompt`` first; None if no ``gr.Error`` left it."""
        every = self.raised_all(prompt)
        return every[0] if every else None

    def raised_all(self, prompt: str) -> list[Raised]:
        """Every ``gr.Error`` the app raised for ``prompt``, one per job, in order."""
        if self.record is None or not self.record.exists():
            return []
        entries = (json.loads(line) for line in self.record.read_text("utf-8").splitlines())
        return [
            Raised(text=entry["str"], message=entry["message"], title=entry["title"])
            for entry in entries
            if entry["prompt"] == prompt
        ]


@pytest.fixture(scope="session", params=PAIRS, ids=[f"spaces{v}-gradio{n}" for v, n in PAIRS])
def zerogpu(request: pytest.FixtureRequest) -> Iterator[ZeroGPUServer]:
    """One server per (spaces version, Gradio line), shared by the session."""
    version, line = request.param
    missing = [name for name, have in ((version, SPACES), (line, LINES)) if name not in have]
    if missing:
        reason = f"spaces {version} on Gradio {line}: set FLUX_TEST_SPACES and FLUX_TEST_GRADIO"
        if os.environ.get("FLUX_REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"FLUX_REQUIRE_INTEGRATION=1 but no {reason}")
        pytest.skip(reason)
    space = ZeroGPUSpace(python=LINES[line], spaces_dir=SPACES[version])
    with space:
        yield ZeroGPUServer(
            url=space.url, gradio=space.gradio_version, spaces=version, record=space.record
        )


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only: these tests are about the Space's texts, not the event loop."""
    return "asyncio"
