"""Every docstring example in the package runs and shows what it says (``doctest``).

Examples that need a network or a real Space are marked ``# doctest: +SKIP`` where they stand.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import flux_sdk

OPTIONAL = {"g4f", "gradio", "PIL", "rich", "trio"}
"""What the package's extras install: their modules are only importable with them."""
MODULES = sorted(
    module.name for module in pkgutil.walk_packages(flux_sdk.__path__, f"{flux_sdk.__name__}.")
)


@pytest.mark.parametrize("name", [flux_sdk.__name__, *MODULES])
def test_docstring_examples(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # A module for an optional extra (g4f, gradio) where that extra is not installed.
        if exc.name is None or exc.name.split(".")[0] not in OPTIONAL:
            raise
        pytest.skip(f"{name} needs {exc.name}, not installed here")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
