"""The README's install commands, as a user on a fresh machine runs them.

Builds the wheel with ``uv build`` (as the README says), installs it into a new virtual
environment, and uses it from there: what a user gets is the wheel, not this checkout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from flux_sdk import __version__

ROOT = Path(__file__).resolve().parents[2]
# Bounds so that a broken build fails instead of hanging; no test asserts on time.
LIMIT = 600.0

pytestmark = pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv (nox installs it)")


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=LIMIT,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run("uv", "build", "--wheel", "--quiet", "--out-dir", out, ROOT, cwd=ROOT)
    (built,) = out.glob("*.whl")
    return built


def test_the_readme_names_the_wheel_uv_builds(wheel: Path) -> None:
    named = set(re.findall(r"dist/(flux_sdk-[^\s'`\[]+\.whl)", (ROOT / "README.md").read_text()))
    assert named == {wheel.name}
    assert wheel.name == f"flux_sdk-{__version__}-py3-none-any.whl"


def test_the_wheel_ships_the_package_typed_and_no_tests(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "flux_sdk/py.typed" in names
    assert "flux_sdk/testing/pytest_plugin.py" in names
    assert "flux_sdk/local/_app.py" in names
    assert "flux_sdk/_space_messages.py" in names  # local/_app.py loads it by path
    for space in ("flux-schnell", "flux-dev"):  # the fake's /config and /info, package data
        for major in (4, 5, 6):
            for answer in ("config", "info"):
                assert f"flux_sdk/testing/data/{space}/gradio-{major}/{answer}.json" in names
    assert not [name for name in names if name.startswith("tests/")]


def test_the_installed_wheel_imports_and_runs_the_cli(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run("uv", "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    run("uv", "pip", "install", "--quiet", "--python", python, f"{wheel}[cli]")
    # Run from an empty folder, so that the checkout is not what gets imported.
    where = run(python, "-c", "import flux_sdk; print(flux_sdk.__file__)", cwd=tmp_path)
    assert Path(where.strip()).is_relative_to(venv)
    assert "usage: flux" in run(venv / "bin" / "flux", "--help", cwd=tmp_path)
