"""Every project task: ``nox -l`` lists them; plain ``nox`` runs the whole test suite."""

from __future__ import annotations

import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "g4f", "typecheck", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

TEST_DEPS = [
    "pytest>=8",
    "respx>=0.21",
    "psutil>=5.9",
    "hypothesis>=6",
    "trio>=0.25",
    "Pillow>=10",
    # The bounded br and zstd decoders (flux_sdk/_protocol/_coding.py) are tested with them.
    "brotli>=1.2",
    "backports.zstd>=1.0; python_version < '3.14'",
    # HTTPS tests: a throwaway CA (tests/faults/test_tls.py); http2=True needs h2.
    "trustme>=1.1",
    "h2>=4.1,<5",
    # An HTTP/2 server (tests/faults/test_http2.py; tests/_h2space.py serves the replica).
    "hypercorn>=0.17",
]
TYPE_DEPS = ["mypy>=1.10", "pyright>=1.1.380", "types-psutil", *TEST_DEPS]

# Each Gradio line the Space may run gets its own environment: a real server for the
# integration tests, never imported by the client's environment. 4.44 needs the pins that the
# protocol reference names (§7.8): it imports HfFolder, gone from huggingface_hub >= 1.0.
GRADIO_SERVERS: dict[str, list[str]] = {
    "4": [
        "gradio==4.44.1",
        "huggingface_hub==0.25.2",
        "fastapi==0.112.4",
        "pydantic==2.9.2",
        "httpx==0.27.2",
        # spaces < 0.51 imports psutil (tests/zerogpu runs it on Gradio 4 and 5).
        "psutil>=5.9,<6",
    ],
    "5": ["gradio==5.50.0", "psutil>=5.9,<6"],
    "6": ["gradio==6.31.0"],
}
# The `spaces` versions tests/zerogpu runs, at least one per wording family of ZeroGPU's errors;
# the tests pair each with the Gradio lines it supports. Pure Python, so each is installed
# without its dependencies into a directory of its own, which a Gradio server puts on its path.
SPACES_VERSIONS = ("0.26.2", "0.28.3", "0.30.4", "0.32.0", "0.45.0", "0.48.3", "0.51.3")
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "*"}


def gradio_servers(session: nox.Session) -> str:
    """Build (or reuse) one environment per Gradio line; return ``4=python,5=python,...``."""
    pythons = []
    for line, requirements in GRADIO_SERVERS.items():
        env = ROOT / ".nox" / f"gradio-{line}"
        python = env / "bin" / "python"
        stamp = env / "requirements.txt"
        wanted = "\n".join(requirements)
        if not (python.exists() and stamp.exists() and stamp.read_text() == wanted):
            session.run("uv", "venv", "--quiet", "--python", PYTHON, str(env), external=True)
            session.run(
                "uv",
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                *requirements,
                external=True,
            )
            stamp.write_text(wanted)
        pythons.append(f"{line}={python}")
    return ",".join(pythons)


def spaces_packages(session: nox.Session) -> str:
    """Install (or reuse) each of `SPACES_VERSIONS` in .nox/spaces/X; return ``X=dir,...``."""
    targets = []
    for version in SPACES_VERSIONS:
        target = ROOT / ".nox" / "spaces" / version
        if not (target / "spaces" / "__init__.py").exists():
            session.run(
                "uv",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--python",
                PYTHON,
                "--target",
                str(target),
                f"spaces=={version}",
                external=True,
            )
        targets.append(f"{version}={target}")
    return ",".join(targets)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit tests, and integration tests against real Gradio 4, 5 and 6 servers.

    tests/zerogpu runs real `spaces` versions (`SPACES_VERSIONS`) in those servers.
    """
    session.install("-e", ".[cli,local]", *TEST_DEPS)
    servers = gradio_servers(session)
    spaces = spaces_packages(session)
    session.run(
        "pytest",
        *(session.posargs or ["tests"]),
        env={
            **OFFLINE_ENV,
            "FLUX_TEST_GRADIO": servers,
            "FLUX_TEST_SPACES": spaces,
            "FLUX_REQUIRE_INTEGRATION": "1",
        },
    )


# The gpt4free release flux_sdk.compat's providers are tested with (the [g4f] extra allows <9).
G4F = "g4f==8.8.6"


@nox.session(python=PYTHON)
def g4f(session: nox.Session) -> None:
    """gpt4free's own clients driving flux_sdk.compat's providers against real local Spaces.

    tests/g4f, where g4f is required (other sessions skip it). Offline: the tests switch g4f's
    version check off and fail if anything reaches past 127.0.0.1; g4f's configuration
    directory is the session's temporary one.
    """
    session.install("-e", ".[cli,local,g4f]", G4F, *TEST_DEPS)
    servers = gradio_servers(session)
    env = {
        **OFFLINE_ENV,
        "FLUX_TEST_GRADIO": servers,
        "FLUX_REQUIRE_INTEGRATION": "1",
        "FLUX_REQUIRE_G4F": "1",
        "G4F_CONFIG_DIR": str(Path(session.create_tmp()) / "g4f-config"),
    }
    session.run("pytest", *(session.posargs or ["tests/g4f"]), env=env)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright (strict) on the package, the tests and the examples.

    Then ``pyright --verifytypes``: every public symbol's type is known to a user's checker.
    """
    session.install("-e", ".[cli,local]", *TYPE_DEPS)
    session.run("mypy")
    session.run("pyright")
    verify_types(session)


def verify_types(session: nox.Session) -> None:
    """Fail unless ``pyright --verifytypes flux_sdk`` scores 100 % on a built, installed copy.

    An editable install (the session's own) makes pyright judge the source tree, not what a user
    gets, so the built wheel goes into an environment of its own. pyright asks the first
    ``python`` on PATH where packages are, and nox puts the session's first: ``uv run`` puts that
    environment's before it. It runs from a directory with no ``flux_sdk`` in it. Below 100 %,
    pyright exits 1.
    """
    # Absolute: the run below happens from inside it, and nox's tmp path is relative to .nox.
    env = Path(session.create_tmp()).resolve() / "installed"
    python = str(env / "bin" / "python")
    if not Path(python).exists():
        session.run("uv", "venv", "--quiet", "--python", PYTHON, str(env), external=True)
    install = ["uv", "pip", "install", "--quiet", "--python", python, "--reinstall-package"]
    session.run(*install, "flux-sdk", str(ROOT), external=True)
    with session.chdir(env):
        verify = ["pyright", "--verifytypes", "flux_sdk", "--ignoreexternal"]
        session.run("uv", "run", "--no-project", "--python", python, "--", *verify, external=True)


# A fresh environment each time: one reused would keep versions a previous run installed.
@nox.session(python=PYTHON, reuse_venv=False, default=False)
def lowest(session: nox.Session) -> None:
    """Unit tests against the lowest versions of its dependencies (and extras) the SDK allows.

    Not among the default sessions: run it when a lower bound in pyproject.toml changes, or the
    SDK starts to use a newer API of a dependency. ``nox -s lowest -- tests/faults`` runs others.
    The local extra is left out: its app runs under Gradio's own interpreter in the tests.
    """
    session.install("--resolution", "lowest-direct", "-e", ".[cli,trio,pil]")
    # The test tools at their newest, on the SDK's lowest: a test tool that needs a newer
    # dependency than the SDK's bound fails to resolve here instead of raising it silently.
    frozen = session.run("uv", "pip", "freeze", silent=True, external=True)
    assert isinstance(frozen, str)
    lowest = Path(session.create_tmp()) / "lowest.txt"
    lowest.write_text("\n".join(line for line in frozen.splitlines() if "==" in line) + "\n")
    session.install("--constraint", str(lowest), *TEST_DEPS)
    session.run("uv", "pip", "list", external=True)
    without_gradio = (
        "--deselect=tests/unit/test_docstrings.py::test_docstring_examples[flux_sdk.local._app]"
    )
    session.run("pytest", *(session.posargs or ["tests/unit", without_gradio]), env=OFFLINE_ENV)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The Quickstart's main job: generate fox.webp with the CLI against the local Space, offline.

    ``nox -s demo -- "another prompt"`` changes the prompt.
    """
    session.install("-e", ".[cli,local]")
    prompt = session.posargs[0] if session.posargs else "a red fox in fresh snow"
    session.run(
        "flux",
        "generate",
        prompt,
        "--url",
        "local",
        "--width",
        "768",
        "--height",
        "512",
        "--seed",
        "7",
        "-o",
        "fox.webp",
        env=OFFLINE_ENV,
    )


@nox.session(python=PYTHON)
def fmt(session: nox.Session) -> None:
    """Apply ruff's fixes and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "--fix", ".")
    session.run("ruff", "format", ".")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmark flux_sdk vs a raw httpx floor, gradio_client and gpt4free's request logic.

    Against a real Gradio 6 replica (zero-cost infer), directly and through a delay proxy (round
    trips, cold starts, `flux generate` included: hence [cli]); writes
    benchmarks/results/latest.{json,md}. Counts are configurable: ``nox -s bench -- --quick
    --jobs 50`` (``-- --help`` lists them). Then HTTP/1.1 against HTTP/2 over TLS
    (`benchmarks.http2`, hence [http2]), with ``--quick`` passed on: results/http2.{json,md}.
    """
    session.install(
        "-e",
        ".[cli,http2]",
        "gradio_client==2.7.2",
        "aiohttp>=3.9",
        "pyinstrument>=4.6",
        "trustme>=1.1",
    )
    servers = dict(item.split("=", 1) for item in gradio_servers(session).split(","))
    command = ["python", "-m", "benchmarks.run", "--server-python", servers["6"]]
    session.run(*command, *session.posargs, env=OFFLINE_ENV)
    # HTTP/1.1 against HTTP/2 over TLS (benchmarks/http2.py): results/http2.{json,md}.
    http2 = ["python", "-m", "benchmarks.http2", "--server-python", h2_server(session)]
    session.run(*http2, *(["--quick"] if "--quick" in session.posargs else []), env=OFFLINE_ENV)


def h2_server(session: nox.Session) -> str:
    """Build (or reuse) Gradio 6's server environment plus hypercorn; return its python.

    The replica over TLS + HTTP/2 (tests/_h2space.py) runs under hypercorn instead of Gradio's
    uvicorn, which speaks HTTP/1.1 only; the integration servers stay as they are.
    """
    env = ROOT / ".nox" / "gradio-6-h2"
    python = env / "bin" / "python"
    stamp = env / "requirements.txt"
    requirements = [*GRADIO_SERVERS["6"], "hypercorn>=0.17"]
    wanted = "\n".join(requirements)
    if not (python.exists() and stamp.exists() and stamp.read_text() == wanted):
        session.run("uv", "venv", "--quiet", "--python", PYTHON, str(env), external=True)
        install = ["uv", "pip", "install", "--quiet", "--python", str(python), *requirements]
        session.run(*install, external=True)
        stamp.write_text(wanted)
    return str(python)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs site into site/ (mkdocs build --strict, offline) and check its pages.

    The check (tests/docs/test_site.py): docstring examples are code blocks, defaults values.
    """
    # mkdocstrings formats long signatures with ruff, one parameter a line.
    session.install("-e", ".", "mkdocs-material", "mkdocstrings[python]", "ruff>=0.6", "pytest>=8")
    site = ROOT / "site"
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(site),
        env={"NO_MKDOCS_2_WARNING": "1"},
    )
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/docs/test_site.py",
        env={"FLUX_DOCS_SITE": str(site)},
    )
