"""The built docs site reads well: docstring examples are code, defaults are values.

These tests read the HTML that ``mkdocs build`` wrote to the directory named by
``FLUX_DOCS_SITE``; ``nox -s docs`` builds the site and then runs them (the tests session has no
mkdocs, so there they are skipped). The Griffe extension that does the rewriting,
``docs/_griffe.py``, is also tested on its own where Griffe is installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SITE = os.environ.get("FLUX_DOCS_SITE", "")
# A default shown as the constant's name (``timeout: TimeoutTypes = DEFAULT_TIMEOUT``).
_NAMED_DEFAULT = re.compile(r"=\s*_?DEFAULT_[A-Z_]+\b")

needs_site = pytest.mark.skipif(
    not _SITE, reason="FLUX_DOCS_SITE names no built site (nox -s docs runs these tests)"
)


class _Page(HTMLParser):
    """What the checks need from one rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.examples: list[dict[str, str | int]] = []  # one per Example admonition
        self.signatures: list[str] = []  # the text of each signature block
        self.text: list[str] = []
        self.stylesheets: list[str] = []
        self._stack: list[tuple[str, str]] = []  # (tag, class) of the open elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = attributes.get("class") or ""
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href") or "")
        if tag in ("link", "meta", "br", "img", "input", "hr"):
            return  # void elements: never closed
        if tag == "details" and "example" in classes.split():
            self.examples.append({"text": "", "code": 0, "blockquote": 0})
        if tag == "div" and "doc-signature" in classes.split():
            self.signatures.append("")
        if self._inside("details", "example"):
            if tag == "code" and self._stack and self._stack[-1][0] == "pre":
                self.examples[-1]["code"] = int(self.examples[-1]["code"]) + 1
            if tag == "blockquote":
                self.examples[-1]["blockquote"] = int(self.examples[-1]["blockquote"]) + 1
        self._stack.append((tag, classes))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._inside("details", "example"):
            self.examples[-1]["text"] = str(self.examples[-1]["text"]) + data
        if self._inside("div", "doc-signature"):
            self.signatures[-1] += data

    def _inside(self, tag: str, css_class: str) -> bool:
        return any(t == tag and css_class in c.split() for t, c in self._stack)


def _reference_pages() -> list[Path]:
    return sorted(Path(_SITE, "reference").glob("*/index.html"))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@needs_site
def test_the_reference_is_built() -> None:
    names = {path.parent.name for path in _reference_pages()}
    assert {"clients", "models", "errors", "settings", "local", "testing"} <= names, names


@needs_site
def test_examples_are_code_blocks_without_doctest_markup() -> None:
    examples = 0
    for path in _reference_pages():
        page = _parse(path)
        text = "".join(page.text)
        assert "doctest:" not in text, path
        assert ">>>" not in text, path
        for example in page.examples:
            examples += 1
            assert example["code"], (path, example["text"])
            assert not example["blockquote"], (path, example["text"])
    assert examples >= 5, examples  # the checks saw the examples (a broken parser sees none)


@needs_site
def test_defaults_show_their_values() -> None:
    for path in _reference_pages():
        page = _parse(path)
        # Signatures of functions and classes; an attribute's shows its value's source code.
        for signature in (text for text in page.signatures if re.match(r"\w+\(", text)):
            assert not _NAMED_DEFAULT.search(signature), (path, signature)
            assert "(lambda" not in signature, (path, signature)  # a default_factory's source
        listed = re.search(r"default:\s*_?DEFAULT_[A-Z_]+", "".join(page.text))
        assert listed is None, (path, listed)
    clients = _parse(Path(_SITE, "reference", "clients", "index.html"))
    signature = clients.signatures[0]
    assert "max_retries: int = 2" in signature, signature
    assert "timeout: TimeoutTypes = Timeout(" in signature, signature
    assert "connect=10.0" in signature, signature


@needs_site
def test_code_blocks_wrap() -> None:
    page = _parse(Path(_SITE, "reference", "clients", "index.html"))
    extra = [href for href in page.stylesheets if href.endswith("stylesheets/extra.css")]
    assert extra, page.stylesheets
    css = Path(_SITE, "stylesheets", "extra.css").read_text(encoding="utf-8")
    assert "white-space: pre-wrap" in css


def _doctest_to_fences() -> Callable[[str], str]:
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location("_flux_docs_griffe", ROOT / "docs" / "_griffe.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    convert: Callable[[str], str] = module.doctest_to_fences
    return convert


def test_doctest_blocks_become_python_fences() -> None:
    convert = _doctest_to_fences()
    docstring = (
        "Open it.\n"
        "\n"
        "Example:\n"
        "    >>> with open_it() as thing:  # doctest: +SKIP\n"
        "    ...     thing.size\n"
        "    (768, 512)\n"
        "\n"
        "Returns:\n"
        "    The thing.\n"
    )
    assert convert(docstring) == (
        "Open it.\n"
        "\n"
        "Example:\n"
        "    ```python\n"
        "    with open_it() as thing:\n"
        "        thing.size\n"
        "    # (768, 512)\n"
        "    ```\n"
        "\n"
        "Returns:\n"
        "    The thing.\n"
    )


def test_fenced_blocks_and_plain_text_are_left_alone() -> None:
    convert = _doctest_to_fences()
    docstring = "Text with >>> inside.\n\n```pycon\n>>> 1 + 1\n2\n```\n"
    assert convert(docstring) == docstring
