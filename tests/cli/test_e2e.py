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
import urllib.request
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


def test_generate_off_a_terminal_ends_with_a_line_for_people(
    server: Server, tmp_path: Path
) -> None:
    # What `nox -s demo` shows: output that is not a terminal, and no --json.
    result = run_flux(
        "generate", "a red fox in fresh snow", "-o", "fox.webp", "--width", "768",
        "--height", "512", "--seed", "7", "--url", server.url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout.decode() == "saved fox.webp (768\N{MULTIPLICATION SIGN}512, seed 7)\n"
    assert_webp(tmp_path / "fox.webp")


def test_generate_writes_a_webp_as_served_and_prints_json(server: Server, tmp_path: Path) -> None:
    result = run_flux(
        "generate", "a red fox in fresh snow", "-o", "fox.webp", "--width", "768",
        "--height", "512", "--seed", "7", "--url", server.url, "--json", cwd=tmp_path,
    )  # fmt: skip
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
    # Byte for byte what the Space serves (the server runs on after the command).
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(str(body["url"]), timeout=LIMIT) as response:
        assert (tmp_path / "fox.webp").read_bytes() == response.read()


@pytest.mark.parametrize("protocol", ["queue", "call"])
def test_generate_json_with_a_random_seed_and_the_default_name(
    server: Server, tmp_path: Path, protocol: str
) -> None:
    result = run_flux(
        "generate", "a lighthouse", "--json", "--protocol", protocol, "--url", server.url,
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
    result = run_flux("generate", "a fox", "-o", str(tmp_path), "--seed", "3", "--url", server.url)
    assert result.returncode == 0, result.stderr
    assert_webp(tmp_path / "flux-3.webp")


def test_generate_creates_the_missing_directories_of_o(server: Server, tmp_path: Path) -> None:
    result = run_flux(
        "generate", "a fox", "-o", "missing/dir/fox.webp", "--seed", "3", "--url", server.url,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("saved missing/dir/fox.webp (")
    assert_webp(tmp_path / "missing" / "dir" / "fox.webp")
    # Ending with a slash: a directory to create, with the default name in it.
    into = run_flux(
        "generate", "a fox", "-o", "new/", "--seed", "4", "--url", server.url, cwd=tmp_path
    )
    assert into.returncode == 0, into.stderr
    assert_webp(tmp_path / "new" / "flux-4.webp")


@pytest.mark.parametrize(
    ("name", "pil_format", "mode"),
    [("fox.png", "PNG", None), ("fox.jpg", "JPEG", "RGB"), ("FOX.JPEG", "JPEG", "RGB")],
)
def test_generate_converts_by_the_extension(
    server: Server, tmp_path: Path, name: str, pil_format: str, mode: str | None
) -> None:
    from PIL import Image

    result = run_flux(
        "generate", "a fox", "-o", name, "--width", "768", "--height", "512", "--seed", "2",
        "--url", server.url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith(f"saved {name} (768\N{MULTIPLICATION SIGN}512")
    with Image.open(tmp_path / name) as image:
        assert image.format == pil_format
        assert image.size == (768 // 16, 512 // 16)  # the test replica draws at 1/16 size
        assert mode is None or image.mode == mode
    assert [path.name for path in tmp_path.iterdir()] == [name]  # no temporary file left


def test_a_whitespace_only_prompt_is_refused_like_an_empty_one() -> None:
    # Port 9 has no server: contacting it would exit 15 (connection error), not 4.
    blank = run_flux("generate", "   ", "--url", "http://127.0.0.1:9")
    empty = run_flux("generate", "", "--url", "http://127.0.0.1:9")
    assert (blank.returncode, empty.returncode) == (4, 4)
    assert blank.stdout == empty.stdout == b""
    message = "must be a non-empty string, not only whitespace"
    assert blank.stderr.decode() == f"error: invalid PROMPT '   ': {message}\n"
    assert empty.stderr.decode() == f"error: invalid PROMPT '': {message}\n"


@pytest.mark.parametrize(
    ("output", "code", "phrases"),
    [
        ("fox.gif", 2, ["unknown extension '.gif'", ".webp, .png, .jpg or .jpeg"]),
        ("fox", 2, ["no extension", ".webp, .png, .jpg or .jpeg"]),
        ("blocker/fox.webp", 1, ["cannot create the directory", "blocker"]),
        ("x" * 300 + ".webp", 1, ["cannot write", "too long"]),
        # Nobody can create a file in /proc, root included (whom os.access() lets through).
        ("/proc/fox.webp", 1, ["cannot write in /proc", "choose another -o"]),
    ],
    ids=["unknown-extension", "no-extension", "parent-is-a-file", "name-too-long", "proc"],
)
def test_an_unusable_output_is_refused_before_submitting(
    tmp_path: Path, output: str, code: int, phrases: list[str]
) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    # Port 9 has no server: submitting would exit 15 (connection error).
    result = run_flux("generate", "a fox", "-o", output, "--url", "http://127.0.0.1:9",
                      cwd=tmp_path)  # fmt: skip
    assert result.returncode == code, result.stderr
    assert result.stdout == b""
    message = result.stderr.decode()
    assert message.startswith("error: "), message
    assert message.count("\n") == 1, message
    for phrase in phrases:
        assert phrase in message
    assert [path.name for path in tmp_path.iterdir()] == ["blocker"]


# Runs the CLI with Pillow made unimportable (a None in sys.modules), installed or not.
_WITHOUT_PILLOW = (
    "import sys; sys.modules['PIL'] = None; from flux_sdk._cli import main; "
    "raise SystemExit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize("name", ["fox.png", "fox.jpg"])
def test_converting_without_pillow_is_refused_before_submitting(tmp_path: Path, name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PILLOW, "generate", "a fox", "-o", name, "--json",
         "--url", "http://127.0.0.1:9"],
        capture_output=True, cwd=tmp_path, env=environment(), stdin=subprocess.DEVNULL,
        timeout=LIMIT, check=False,
    )  # fmt: skip
    assert result.returncode == 20  # not 15: nothing was submitted to port 9
    error = stderr_json(result)
    assert error["error"] == "MissingExtraError"
    assert "pip install 'flux-sdk[pil]'" in str(error["message"])
    assert ".webp" in str(error["message"])
    assert list(tmp_path.iterdir()) == []


def test_webp_needs_no_pillow(server: Server, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PILLOW, "generate", "a fox", "-o", "fox.webp",
         "--url", server.url],
        capture_output=True, cwd=tmp_path, env=environment(), stdin=subprocess.DEVNULL,
        timeout=LIMIT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_webp(tmp_path / "fox.webp")


def _no_file_writes() -> None:
    # RLIMIT_FSIZE 0: any byte written to a file fails with EFBIG (Python ignores SIGXFSZ),
    # so the job succeeds and only the save fails, after the checks passed.
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX resource limits")
@pytest.mark.parametrize("name", ["fox.webp", "fox.png"])
def test_a_failed_save_after_the_job_names_the_images_url(
    server: Server, tmp_path: Path, name: str
) -> None:
    result = subprocess.run(
        [*FLUX, "generate", "a fox", "-o", name, "--url", server.url],
        capture_output=True, cwd=tmp_path, env=environment(), stdin=subprocess.DEVNULL,
        timeout=LIMIT, check=False, preexec_fn=_no_file_writes,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    message = result.stderr.decode()
    assert message.startswith(f"error: cannot write {name}: File too large; "), message
    url = re.search(r"at (http://\S+)", message)
    assert url is not None, message
    assert url.group(1).startswith(server.url), message
    assert list(tmp_path.iterdir()) == []  # no partial file


def test_quota_exits_with_its_code_and_says_when_to_retry(server: Server, tmp_path: Path) -> None:
    result = run_flux("generate", "[quota] a fox", "--url", server.url, "--json", cwd=tmp_path)
    assert result.returncode == 6
    assert result.stdout == b""
    error = stderr_json(result)
    assert error["error"] == "QuotaExceededError"
    assert "retry" in str(error["message"])
    assert error["retry_after"] == 413.0  # the replica's "Try again in 0:06:53"
    assert b"\x1b" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_wait_on_quota_says_when_the_wait_does_not_fit_the_timeout(server: Server) -> None:
    result = run_flux(
        "generate", "[quota] a fox", "--wait-on-quota", "--timeout", "30", "--url", server.url
    )
    assert result.returncode == 6
    message = result.stderr.decode()
    # The replica says "Try again in 0:06:53": 413 s, and a minute for the job: 480 s.
    assert "wait 6 min 53 s, which does not fit in what is left of --timeout 30 s" in message
    assert "--wait-on-quota did not wait" in message
    assert "--timeout 480 (or more)" in message


def test_gpu_timeout_and_app_errors(server: Server) -> None:
    gpu = run_flux("generate", "[gpu] a fox", "--url", server.url, "--json")
    assert gpu.returncode == 9
    assert stderr_json(gpu)["error"] == "GPUUnavailableError"

    failed = run_flux("generate", "[error] the model is on fire", "--url", server.url, "--json")
    assert failed.returncode == 10
    assert "the model is on fire" in str(stderr_json(failed)["message"])


def test_a_hidden_error_on_the_call_protocol_suggests_the_queue(server: Server) -> None:
    result = run_flux(
        "generate", "[crash] a fox", "--protocol", "call", "--url", server.url, "--json"
    )
    assert result.returncode == 10
    error = stderr_json(result)
    assert error["error"] == "JobFailedError"
    assert "hid the error" in str(error["message"])
    assert "--protocol queue" in str(error["message"])


def test_an_invalid_width_needs_no_server() -> None:
    # Port 9 has no server: contacting it would exit 15 (connection error), not 4.
    result = run_flux(
        "generate", "a fox", "--width", "1000", "--url", "http://127.0.0.1:9", "--json"
    )
    assert result.returncode == 4
    assert result.stdout == b""
    error = stderr_json(result)
    assert error["error"] == "InvalidRequestError"
    message = str(error["message"])
    assert "--width 1000" in message
    for limit in ("256", "2048", "multiple of 32"):
        assert limit in message


def test_an_unreachable_space_is_a_connection_error() -> None:
    result = run_flux("generate", "a fox", "--json", "--url", "http://127.0.0.1:9")
    assert result.returncode == 15
    assert stderr_json(result)["error"] == "FluxConnectionError"


def test_a_usage_error_is_json_with_json_and_text_without() -> None:
    result = run_flux("generate", "a fox", "--steps", "many", "--json")
    assert result.returncode == 2
    assert stderr_json(result)["error"] == "UsageError"
    text = run_flux("generate", "a fox", "--steps", "many")
    assert text.returncode == 2
    assert "flux generate: error: argument --steps: invalid int value" in text.stderr.decode()


# -- on a terminal --------------------------------------------------------------------------------


@terminal_only
def test_terminal_shows_notices_and_the_saved_line(server: Server, tmp_path: Path) -> None:
    run = run_in_terminal(
        ["generate", "[info] a red fox", "-o", "fox.webp", "--width", "768", "--height", "512",
         "--seed", "7", "--steps", "3", "--url", server.url],
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
        ["generate", "[slow] a fox", "--steps", "50", "-v", "--url", server.url],
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
    result = run_flux("info", "--url", server.url, "--json")
    assert result.returncode == 0, result.stderr
    body = stdout_json(result)
    assert body["gradio_version"] == server.gradio
    assert body["api_prefix"] == ("" if server.gradio.startswith("4.") else "/gradio_api")
    assert body["fn_index"] == 2
    assert body["matches_sdk"] is True
    assert body["mismatches"] == []


@terminal_only
def test_info_on_a_terminal_is_a_table(server: Server, tmp_path: Path) -> None:
    run = run_in_terminal(["info", "--url", server.url], cwd=tmp_path)
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
    # Self-sufficient: the exit statuses are listed, no path into a checkout is named.
    assert b"exit statuses:" in result.stdout
    assert b"  143  SIGTERM" in result.stdout
    assert b"docs/" not in result.stdout
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


def test_the_limits_module_imports_nothing_heavy() -> None:
    # The help quotes the Space's limits and URLs from flux_sdk._limits: it must stay light.
    import flux_sdk

    folder = str(Path(flux_sdk.__file__).parent)
    code = (
        "import sys, types\n"
        f"package = types.ModuleType('flux_sdk'); package.__path__ = [{folder!r}]\n"
        "sys.modules['flux_sdk'] = package\n"
        "import flux_sdk._limits\n"
        f"heavy = sorted(name for name in {HEAVY!r} if name in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
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
    [
        ["generate", "a fox", "--url", "local", "--json"],
        ["info", "--url", "local", "--json"],
        ["serve-local"],
    ],
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
    if "--json" in argv:
        error = stderr_json(result)
        assert error["error"] == "UsageError"
        message = str(error["message"])
    else:
        message = result.stderr.decode()
        assert message.startswith("error: "), message
        assert message.count("\n") == 1, message
    assert "pip install 'flux-sdk[local]'" in message


@pytest.mark.skipif(NO_GRADIO, reason="needs gradio in this interpreter (the [local] extra)")
def test_space_local_starts_and_stops_a_local_space(tmp_path: Path) -> None:
    result = run_flux(
        "generate", "a fox", "--seed", "5", "--url", "local", "--step-delay", "0", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = stdout_json(result)
    assert body["seed"] == 5
    # The local Space stopped with the command: no URL that would point at nothing.
    assert body["url"] is None
    assert_webp(tmp_path / "flux-5.webp")
    info = run_flux("info", "--url", "local", "--json")
    assert info.returncode == 0, info.stderr
    assert stdout_json(info)["matches_sdk"] is True


@pytest.mark.skipif(NO_GRADIO, reason="needs gradio in this interpreter (the [local] extra)")
def test_serve_local_prints_its_url_and_stops_on_ctrl_c() -> None:
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


@pytest.mark.skipif(NO_GRADIO, reason="needs gradio in this interpreter (the [local] extra)")
def test_serve_local_serves_the_dev_replica_with_a_step_delay() -> None:
    import psutil

    with subprocess.Popen(
        [*FLUX, "serve-local", "--space", "flux-dev", "--step-delay", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            # The FLUX.1-dev API: `flux info --space flux-dev` finds guidance and no mismatch.
            info = run_flux("info", "--space", "flux-dev", "--url", url, "--json")
            assert info.returncode == 0, info.stderr
            body = stdout_json(info)
            assert body["matches_sdk"] is True
            names = [cast(JSONObject, p)["name"] for p in cast("list[object]", body["parameters"])]
            assert "guidance_scale" in names
            # --step-delay reaches the local Space's server process.
            servers = [
                child.cmdline() for child in psutil.Process(process.pid).children(recursive=True)
            ]
            assert any(
                "--step-delay" in argv and argv[argv.index("--step-delay") + 1] == "0.2"
                for argv in servers
            ), servers
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=LIMIT)
            assert process.returncode == 0, err
            assert "local FLUX.1-dev Space" in err
        finally:
            if process.poll() is None:
                process.kill()


@terminal_only
@pytest.mark.skipif(NO_GRADIO, reason="needs gradio in this interpreter (the [local] extra)")
@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_interrupting_while_the_local_space_starts_says_nothing_was_submitted(
    tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    interrupted = False

    def interrupt_once_starting(output: bytes, process: subprocess.Popen[bytes]) -> None:
        nonlocal interrupted
        if not interrupted and b"starting the local Space" in output:
            interrupted = True
            process.send_signal(signum)

    run = run_in_terminal(
        ["generate", "a fox", "--url", "local"], cwd=tmp_path, on_output=interrupt_once_starting
    )
    assert interrupted, run.text
    assert run.returncode == status, run.text
    assert (
        "interrupted: the local Space was still starting and has been stopped; "
        "nothing was submitted"
    ) in run.text
    assert "cancelled on the Space" not in run.text
    assert list(tmp_path.iterdir()) == []
