"""The public API: every exported name resolves, and importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import flux_sdk


@pytest.mark.parametrize("name", flux_sdk.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(flux_sdk, name) is not None
    assert name in dir(flux_sdk)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(flux_sdk, "no_such_name")  # noqa: B009 (the point is a dynamic lookup)


def test_import_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, flux_sdk\n"
        "heavy = sorted({'httpx', 'pydantic', 'anyio'} & set(sys.modules))\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
