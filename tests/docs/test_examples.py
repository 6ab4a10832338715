"""Every ```python block in README.md and docs/ runs, so the examples cannot rot.

Each block is one test, named ``file:line``. It runs as a program (``__name__ == "__main__"``)
in a fresh namespace, with the working directory in ``tmp_path``, against a fake Space on respx
(`tests.docs._fake_space`) that answers for every host, the public Space's URL included, so
``FluxClient()`` works offline. ``flux_sdk.local.LocalSpace`` is replaced by a fake served the
same way, with the fault tags; sync clients a block leaves open are closed after it.

Two HTML comments, on the lines before a block (blank lines between are allowed), change how
it runs; both are invisible on the rendered page:

- ``<!-- not-run: why -->``: the block is only compiled (keep these few).
- ``<!-- setup: code -->``: ``code`` runs first, in the same namespace; for fragments.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import respx

import flux_sdk
import flux_sdk.local
from tests.docs._fake_space import FakeSpace, fake_local_space

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_COMMENT = re.compile(r"<!--(?P<body>.*?)-->\s*$", re.S)


@dataclass(frozen=True)
class Example:
    """One ```python block: where it is, its code, and how to run it."""

    path: Path
    line: int  # of the first line of code, 1-based
    code: str
    setup: str = ""
    run: bool = True

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def extract(path: Path) -> list[Example]:
    """The ```python blocks of a Markdown file, with the comments that precede them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = (opening["info"].split() or [""])[0].lstrip(".{").lower()
        end = index + 1
        while end < len(lines) and not _closes(lines[end], fence):
            end += 1
        if language in ("python", "py"):
            body = [line.removeprefix(indent) for line in lines[index + 1 : end]]
            notes = _comments_before(lines, index)
            setup = "\n".join(_code(note, "setup:") for note in notes if _is(note, "setup"))
            examples.append(
                Example(
                    path=path,
                    line=index + 2,
                    code="\n".join(body) + "\n",
                    setup=setup,
                    run=not any(_is(note, "not-run") for note in notes),
                )
            )
        index = end + 1
    return examples


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and not stripped.strip(fence[0])


def _comments_before(lines: list[str], index: int) -> list[str]:
    """The bodies of the HTML comments just above line ``index`` (stripped)."""
    notes: list[str] = []
    end = index
    while True:
        while end > 0 and not lines[end - 1].strip():
            end -= 1
        if end == 0 or not lines[end - 1].rstrip().endswith("-->"):
            return notes
        start = end - 1
        while start > 0 and "<!--" not in lines[start]:
            start -= 1
        comment = _COMMENT.search("\n".join(lines[start:end]).strip())
        if comment is None:
            return notes
        notes.insert(0, comment["body"].strip())
        end = start


def _code(note: str, keyword: str) -> str:
    return textwrap.dedent(note.removeprefix(keyword).lstrip(" ")).strip() + "\n"


def _is(note: str, keyword: str) -> bool:
    return note == keyword or note.startswith(keyword + ":")


EXAMPLES = [example for path in SOURCES for example in extract(path)]


class _ClosingFluxClient(flux_sdk.FluxClient):
    """A `FluxClient` that remembers itself, so one a block leaves open is closed after it."""

    opened: list[flux_sdk.FluxClient] = []  # noqa: RUF012 (reset per test by the fixture)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened.append(self)


@pytest.fixture
def fake_space(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeSpace]:
    """The fake Space on respx, a fake LocalSpace, a clean environment and ``tmp_path``."""
    space = FakeSpace()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(flux_sdk.local, "LocalSpace", fake_local_space(space))
    monkeypatch.setattr(flux_sdk, "FluxClient", _ClosingFluxClient)
    monkeypatch.setattr(_ClosingFluxClient, "opened", [])
    environment = dict(os.environ)
    try:
        with respx.mock(assert_all_called=False) as router:
            space.install(router)
            yield space
    finally:
        for client in _ClosingFluxClient.opened:
            client.close()
        # A block may set variables (HF_TOKEN) for itself: they must not reach the next one.
        os.environ.clear()
        os.environ.update(environment)


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
@pytest.mark.usefixtures("fake_space")
def test_example(example: Example) -> None:
    # Blank lines before the code keep the Markdown file's line numbers in tracebacks.
    code = compile("\n" * (example.line - 1) + example.code, str(example.path), "exec")
    if not example.run:
        return
    namespace: dict[str, object] = {"__name__": "__main__"}
    if example.setup:
        exec(compile(example.setup, f"{example.path} (setup)", "exec"), namespace)
    exec(code, namespace)


def test_every_source_is_read() -> None:
    """The extractor finds blocks where there are some (a broken regex would pass silently)."""
    counts = {path.name: len(extract(path)) for path in SOURCES}
    assert counts["README.md"] >= 5, counts
    assert counts["usage.md"] >= 2, counts
