"""``flux`` end to end, in a subprocess, against real local Spaces (Gradio 4, 5 and 6).

Tests that take the ``server`` fixture need a replica (see conftest.py); the others need none.
Nothing here sleeps or asserts on time: waits are on output, and bounded only against hangs.
"""

from __future__ import annotations

import importlib.util
import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

from tests.cli._run import FLUX, LIMIT, environment, run_flux, run_in_terminal

from .conftest import Server

JSONObject = dict[str, object]
HEAVY = ("httpx", "pydantic", "anyio", "rich")
NO_GRADIO = importlib.util.find_spec("gradio") is None
terminal_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def stdout_json(result: subprocess.CompletedProcess[bytes]) -> JSONObject:
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1, result
    return cast(JSONObject, json.loads(lines[0]))


def stderr_json(result: subprocess.CompletedProcess[bytes]) -> JSONObject:
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, result
    return cast(JSONObject, json.loads(lines[0]))


def assert_webp(path: Path) -> None:
    data = path.read_bytes()
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"


# -- generate -------------------------------------------------------------------------------------


def test_generate_writes_a_webp_and_prints_json(server: Server, tmp_path: Path) -> None:
    result = run_flux(
        "generate",
        "a red fox in fresh snow",
        "-o",
        "fox.webp",
        "--width",
        "768",
        "--height",
        "512",
        "--seed",
        "7",
        "--space",
        server.url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    body = stdout_json(result)
    assert body == {
        "path": str(tmp_path / "fox.webp"),
        "url": body["url"],
        "seed": 7,
        "width": 768,
        "height": 512,
        "prompt": "a red fox in fresh snow",
    }
    assert str(body["url"]).startswith(server.url)
    assert_webp(tmp_path / "fox.webp")


@pytest.mark.parametrize("protocol", ["queue", "call"])
def test_generate_json_with_a_random_seed_and_the_default_name(
    server: Server, tmp_path: Path, protocol: str
) -> None:
    result = run_flux(
        "generate", "a lighthouse", "--json", "--protocol", protocol, "--space", server.url,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = stdout_json(result)
    seed = body["seed"]
    assert isinstance(seed, int)
    assert body["path"] == str(tmp_path / f"flux-{seed}.webp")
    assert (body["width"], body["height"]) == (1024, 1024)
    assert_webp(tmp_path / f"flux-{seed}.webp")
    assert b"\x1b" not in result.stdout + result.stderr


def test_generate_into_a_directory(server: Server, tmp_path: Path) -> None:
    result = run_flux(
        "generate", "a fox", "-o", str(tmp_path), "--seed", "3", "--space", server.url
    )
    assert result.returncode == 0, result.stderr
    assert_webp(tmp_path / "flux-3.webp")


def test_quota_exits_with_its_code_and_says_when_to_retry(server: Server, tmp_path: Path) -> None:
    result = run_flux("generate", "[quota] a fox", "--space", server.url, cwd=tmp_path)
    assert result.returncode == 6
    assert result.stdout == b""
    error = stderr_json(result)
    assert error["error"] == "QuotaExceededError"
    assert "retry" in str(error["message"])
    assert error["retry_after"] == 413.0  # the replica's "Try again in 0:06:53"
    assert b"\x1b" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_gpu_timeout_and_app_errors(server: Server) -> None:
    gpu = run_flux("generate", "[gpu] a fox", "--space", server.url)
    assert gpu.returncode == 9
    assert stderr_json(gpu)["error"] == "GPUUnavailableError"

    failed = run_flux("generate", "[error] the model is on fire", "--space", server.url)
    assert failed.returncode == 10
    assert "the model is on fire" in str(stderr_json(failed)["message"])


def test_a_hidden_error_on_the_call_protocol_suggests_the_queue(server: Server) -> None:
    result = run_flux("generate", "[crash] a fox", "--protocol", "call", "--space", server.url)
    assert result.returncode == 10
    error = stderr_json(result)
    assert error["error"] == "JobFailedError"
    assert "hid the error" in str(error["message"])
    assert "--protocol queue" in str(error["message"])


def test_an_invalid_width_needs_no_server() -> None:
    # Port 9 has no server: contacting it would exit 15 (connection error), not 4.
    result = run_flux("generate", "a fox", "--width", "1000", "--space", "http://127.0.0.1:9")
    assert result.returncode == 4
    assert result.stdout == b""
    error = stderr_json(result)
    assert error["error"] == "InvalidRequestError"
    message = str(error["message"])
    assert "--width 1000" in message
    for limit in ("256", "2048", "multiple of 32"):
        assert limit in message


def test_an_unreachable_space_is_a_connection_error() -> None:
    result = run_flux("generate", "a fox", "--json", "--space", "http://127.0.0.1:9")
    assert result.returncode == 15
    assert stderr_json(result)["error"] == "FluxConnectionError"


def test_a_usage_error_is_json_off_a_terminal() -> None:
    result = run_flux("generate", "a fox", "--steps", "many")
    assert result.returncode == 2
    assert stderr_json(result)["error"] == "UsageError"


# -- on a terminal --------------------------------------------------------------------------------


@terminal_only
def test_terminal_shows_notices_and_the_saved_line(server: Server, tmp_path: Path) -> None:
    run = run_in_terminal(
        ["generate", "[info] a red fox", "-o", "fox.webp", "--width", "768", "--height", "512",
         "--seed", "7", "--steps", "3", "--space", server.url],
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.text
    assert "Waiting for a GPU to become available" in run.text
    assert "Falling back to IP-based quotas" in run.text
    assert "saved fox.webp (768\N{MULTIPLICATION SIGN}512, seed 7)" in run.text
    assert_webp(tmp_path / "fox.webp")


@terminal_only
@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_interrupting_cancels_the_job_first(
    server: Server, tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    interrupted = False

    def interrupt_once_generating(output: bytes, process: subprocess.Popen[bytes]) -> None:
        nonlocal interrupted
        if not interrupted and b"generating" in output:
            interrupted = True
            process.send_signal(signum)

    run = run_in_terminal(
        ["generate", "[slow] a fox", "--steps", "50", "-v", "--space", server.url],
        cwd=tmp_path,
        on_output=interrupt_once_generating,
    )
    assert interrupted, run.text
    assert run.returncode == status, run.text
    # -v shows the SDK's log: the cancel reached the Space before the command exited.
    assert re.search(r"job \w+ cancelled: HTTP 200", run.text), run.text
    assert "interrupted" in run.text
    assert list(tmp_path.iterdir()) == []


# -- info -----------------------------------------------------------------------------------------


def test_info_shows_the_live_api(server: Server) -> None:
    result = run_flux("info", "--space", server.url)
    assert result.returncode == 0, result.stderr
    body = stdout_json(result)  # not a terminal: JSON
    assert body["gradio_version"] == server.gradio
    assert body["api_prefix"] == ("" if server.gradio.startswith("4.") else "/gradio_api")
    assert body["fn_index"] == 2
    assert body["matches_sdk"] is True
    assert body["mismatches"] == []


@terminal_only
def test_info_on_a_terminal_is_a_table(server: Server, tmp_path: Path) -> None:
    run = run_in_terminal(["info", "--space", server.url], cwd=tmp_path)
    assert run.returncode == 0, run.text
    assert f"Gradio      {server.gradio}" in run.text
    assert "fn_index    2 (infer)" in run.text
    assert "256..2048 step 32" in run.text
    assert "flux-sdk's requests match the Space's infer API" in run.text


# -- startup and the local Space ------------------------------------------------------------------

_LIGHT_HELP = """
import sys
from flux_sdk._cli import build_parser
build_parser().format_help()
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
assert not heavy, heavy
"""

_ISOLATED_HELP = """
import contextlib, io, sys, types
from pathlib import Path
# The package without its __init__: what flux_sdk._cli itself imports, and nothing else.
package = types.ModuleType("flux_sdk")
package.__path__ = [str(Path({init!r}).parent)]
sys.modules["flux_sdk"] = package
from flux_sdk._cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    assert main(["--help"]) == 0
    assert main(["generate", "--help"]) == 0
assert "PROMPT" in out.getvalue()
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
assert not heavy, heavy
"""


def test_help_runs_in_a_subprocess() -> None:
    result = run_flux("--help")
    assert result.returncode == 0
    assert b"generate" in result.stdout
    script = Path(sys.executable).with_name("flux")
    if script.exists():  # the installed console script
        installed = subprocess.run(
            [str(script), "generate", "--help"], capture_output=True, env=environment(), check=False
        )
        assert installed.returncode == 0
        assert b"PROMPT" in installed.stdout


def test_the_cli_modules_import_nothing_heavy_for_help() -> None:
    import flux_sdk

    code = _ISOLATED_HELP.format(init=flux_sdk.__file__, heavy=HEAVY)
    subprocess.run([sys.executable, "-c", code], check=True, env=environment())


def test_importing_the_cli_and_building_the_parser_imports_nothing_heavy() -> None:
    code = _LIGHT_HELP.format(heavy=HEAVY)
    subprocess.run([sys.executable, "-c", code], check=True, env=environment())


# Runs the CLI with gradio made unimportable (a None in sys.modules), installed or not.
_WITHOUT_GRADIO = (
    "import sys; sys.modules['gradio'] = None; from flux_sdk._cli import main; "
    "raise SystemExit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize(
    "argv",
    [["generate", "a fox", "--space", "local"], ["info", "--space", "local"], ["serve-local"]],
)
def test_local_space_without_gradio_says_what_to_install(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_GRADIO, *argv],
        capture_output=True,
        env=environment(),
        stdin=subprocess.DEVNULL,
        timeout=LIMIT,
        check=False,
    )
    assert result.returncode == 2
    error = stderr_json(result)
    assert error["error"] == "UsageError"
    assert "pip install 'flux-sdk[local]'" in str(error["message"])


@pytest.mark.skipif(NO_GRADIO, reason="needs gradio in this interpreter (the [local] extra)")
def test_space_local_starts_and_stops_a_local_space(tmp_path: Path) -> None:
    result = run_flux("generate", "a fox", "--seed", "5", "--space", "local", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stdout_json(result)["seed"] == 5
    assert_webp(tmp_path / "flux-5.webp")
    info = run_flux("info", "--space", "local", "--json")
    assert info.returncode == 0, info.stderr
    assert stdout_json(info)["matches_sdk"] is True


@pytest.mark.skipif(NO_GRADIO, reason="needs gradio in this interpreter (the [local] extra)")
def test_serve_local_prints_its_url_and_stops_on_ctrl_c() -> None:
    import urllib.request

    with subprocess.Popen(
        [*FLUX, "serve-local", "--faults"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"{url}/config", timeout=30) as response:
                assert response.status == 200
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=LIMIT)
            assert process.returncode == 0, err
            assert "stopping the local Space" in err
        finally:
            if process.poll() is None:
                process.kill()
