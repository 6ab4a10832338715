"""A Griffe extension, for the docs build only, that makes the API reference read well.

mkdocstrings renders docstrings with Griffe. Two things in flux-sdk's docstrings render badly
as they are, and this extension (``extensions:`` in ``mkdocs.yml``) rewrites them in the
loaded API, never in the source:

* Doctest examples. A Google ``Example:`` section is rendered as Markdown, where ``>>>`` is a
  triple quote bar and ``# doctest: +SKIP`` shows. Each run of ``>>>``/``...`` lines becomes a
  fenced Python block without the prompts and doctest directives; expected output becomes
  ``# output`` comments.
* Defaults that are names. ``timeout: TimeoutTypes = DEFAULT_TIMEOUT`` says nothing about the
  value; the default is replaced by the ``repr()`` of the value it names at runtime, e.g.
  ``Timeout(connect=10.0, idle=60.0, total=600.0, cancel=5.0)``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import griffe

_PROMPT = re.compile(r"^(?P<indent>[ \t]*)>>>(?: |$)")
_DOCTEST_DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")
_DOTTED_NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def doctest_to_fences(text: str) -> str:
    """Turn each doctest block in ``text`` into a fenced Python block at the same indentation.

    Args:
        text: A docstring.

    Returns:
        The docstring with prompts, continuation markers and doctest directives removed from
        its examples, expected output kept as comments; existing fenced blocks are left alone.

    """
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    in_fence = False
    while index < len(lines):
        line = lines[index]
        if _FENCE.match(line):
            in_fence = not in_fence
        prompt = None if in_fence else _PROMPT.match(line)
        if prompt is None:
            out.append(line)
            index += 1
            continue
        indent = prompt["indent"]
        block: list[str] = []
        while index < len(lines) and lines[index].strip():
            current = lines[index]
            body = current.removeprefix(indent)
            if current.startswith(indent) and body.startswith((">>>", "...")):
                code = body[4:] if body[3:4] == " " else body[3:]
                block.append(_DOCTEST_DIRECTIVE.sub("", code))
            else:  # expected output
                block.append(f"# {current.strip()}")
            index += 1
        out += [f"{indent}```python", *(f"{indent}{code}" for code in block), f"{indent}```"]
    return "\n".join(out)


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    """``obj`` and every object defined in it (not the ones it imports), depth first."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias and isinstance(member, griffe.Object):
            yield from _objects(member)


def _runtime_value(module: str, name: str) -> tuple[bool, Any]:
    """Look ``name`` (``NAME`` or ``mod.NAME``) up in the imported ``module``."""
    try:
        value: Any = importlib.import_module(module)
        for part in name.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError):
        return False, None
    return True, value


class ReadableReference(griffe.Extension):
    """Rewrite doctest examples as code blocks and named defaults as their values."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Rewrite the whole package once it is loaded, before any docstring is parsed."""
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = doctest_to_fences(obj.docstring.value)
            if isinstance(obj, griffe.Function):
                for parameter in obj.parameters:
                    self._show_value(obj, parameter)

    @staticmethod
    def _show_value(function: griffe.Function, parameter: griffe.Parameter) -> None:
        default = parameter.default
        if not isinstance(default, griffe.ExprName | griffe.ExprAttribute):
            return
        name = str(default)
        if not _DOTTED_NAME.match(name):
            return
        found, value = _runtime_value(function.module.path, name)
        if found:
            parameter.default = repr(value)
