"""``flux batch`` and ``--space flux-dev`` end to end, in a subprocess, against real replicas.

Like test_e2e.py: the ``server`` fixture is a FLUX.1-schnell replica with the fault tags on
(``[error] text`` fails a job with that text, ``[slow]`` takes 0.25 s a step), ``dev_server``
a FLUX.1-dev one. Waits are on output (or on a file appearing), bounded only against hangs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

from flux_sdk._cli._manifest import MANIFEST_NAME
from tests.cli._run import FLUX, LIMIT, environment, run_flux, run_in_terminal

from .conftest import Server

JSONObject = dict[str, object]
terminal_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NO_GRADIO = importlib.util.find_spec("gradio") is None


def one_json(output: bytes) -> JSONObject:
    lines = output.decode().splitlines()
    assert len(lines) == 1, output
    return cast(JSONObject, json.loads(lines[0]))


def results(body: JSONObject) -> list[JSONObject]:
    return cast("list[JSONObject]", body["results"])


def is_webp(path: Path) -> bool:
    data = path.read_bytes()
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def prompt_file(directory: Path, *lines: str) -> Path:
    file = directory / "prompts.txt"
    file.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return file


# -- batch ----------------------------------------------------------------------------------------


def test_a_failed_prompt_exits_19_and_the_others_are_saved(server: Server, tmp_path: Path) -> None:
    prompt_file(
        tmp_path, "# a batch", "a red fox in fresh snow", "", "[error] boom", "A lighthouse!"
    )
    result = run_flux(
        "batch", "prompts.txt", "-o", "out", "--json", "--url", server.url, cwd=tmp_path
    )
    assert result.returncode == 19, result.stderr
    assert b"\x1b" not in result.stdout + result.stderr
    body = one_json(result.stdout)
    assert (body["succeeded"], body["failed"]) == (2, 1)
    fox, boom, lighthouse = results(body)
    assert fox == {
        "line": 2,
        "index": 1,
        "prompt": "a red fox in fresh snow",
        "path": str(tmp_path / "out" / "0001-a-red-fox-in-fresh-snow.webp"),
        "seed": fox["seed"],
        "error": None,
        "error_class": None,
        "skipped": False,
    }
    assert isinstance(fox["seed"], int)
    assert boom == {
        "line": 4,
        "index": 2,
        "prompt": "[error] boom",
        "path": None,
        "seed": None,
        "error": "the job failed on the Space: boom",
        "error_class": "JobFailedError",
        "skipped": False,
    }
    assert lighthouse["path"] == str(tmp_path / "out" / "0003-a-lighthouse.webp")
    saved = sorted(path.name for path in (tmp_path / "out").iterdir())
    # and the manifest, a line per image (see test_e2e_resume.py)
    assert saved == ["0001-a-red-fox-in-fresh-snow.webp", "0003-a-lighthouse.webp", MANIFEST_NAME]
    assert all(is_webp(tmp_path / "out" / name) for name in saved[:2])
    assert one_json(result.stderr) == {
        "error": "BatchIncomplete",
        "message": "1 of 3 prompts failed",
        "exit_code": 19,
    }


@pytest.mark.parametrize("protocol", ["queue", "call"])
def test_an_all_ok_batch_with_json_exits_0(server: Server, tmp_path: Path, protocol: str) -> None:
    prompt_file(tmp_path, "a fox", "a lighthouse", "a red fox")
    result = run_flux(
        "batch", "prompts.txt", "-o", "out", "--json", "--seed", "11", "--width", "512",
        "--concurrency", "2", "--protocol", protocol, "--url", server.url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    body = one_json(result.stdout)
    assert (body["succeeded"], body["failed"]) == (3, 0)
    assert [entry["seed"] for entry in results(body)] == [11, 11, 11]
    assert [Path(str(entry["path"])).name for entry in results(body)] == [
        "0001-a-fox.webp",
        "0002-a-lighthouse.webp",
        "0003-a-red-fox.webp",
    ]
    assert all(is_webp(Path(str(entry["path"]))) for entry in results(body))


def test_all_prompts_failing_the_same_way_exit_with_that_code(
    server: Server, tmp_path: Path
) -> None:
    prompt_file(tmp_path, "[gpu] one", "[gpu] two")
    result = run_flux("batch", "prompts.txt", "-o", "out", "--url", server.url, cwd=tmp_path)
    assert result.returncode == 9
    # Not a terminal and no --json: the summary and the error line a terminal would show.
    out = result.stdout.decode()
    assert out.startswith("0 of 2 images saved in out; 2 failed:\n"), out
    assert 'line 1 "[gpu] one": no GPU was free on the Space in time' in out
    err = result.stderr.decode().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: all 2 prompts failed (GPUUnavailableError)")
    assert list((tmp_path / "out").iterdir()) == []


def test_prompts_from_stdin(server: Server, tmp_path: Path) -> None:
    result = subprocess.run(
        [*FLUX, "batch", "-", "-o", "out", "--json", "--url", server.url],
        input=b"a fox\n# skipped\na lighthouse\n",
        capture_output=True,
        cwd=tmp_path,
        env=environment(),
        timeout=LIMIT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert one_json(result.stdout)["succeeded"] == 2
    assert (tmp_path / "out" / "0002-a-lighthouse.webp").exists()


@terminal_only
def test_batch_on_a_terminal_shows_each_image_and_the_failures(
    server: Server, tmp_path: Path
) -> None:
    prompt_file(tmp_path, "a red fox", "[error] boom", "a lighthouse")
    run = run_in_terminal(
        ["batch", "prompts.txt", "-o", "out", "--concurrency", "1", "--url", server.url],
        cwd=tmp_path,
    )
    assert run.returncode == 19, run.text
    text = ANSI.sub("", run.text)
    assert "saved out/0001-a-red-fox.webp (seed " in text
    assert "saved out/0003-a-lighthouse.webp (seed " in text
    assert "2 of 3 images saved in out; 1 failed:" in text
    assert 'line 2 "[error] boom": the job failed on the Space: boom' in text
    assert "error: 1 of 3 prompts failed" in text
    assert "{" not in text  # no JSON on a terminal


@terminal_only
def test_ctrl_c_cancels_the_running_jobs_and_prints_the_partial_summary(
    server: Server, tmp_path: Path
) -> None:
    prompt_file(tmp_path, "a quick fox", "[slow] one", "[slow] two", "[slow] three")
    interrupted = False

    def interrupt_once_the_slow_job_runs(output: bytes, process: subprocess.Popen[bytes]) -> None:
        nonlocal interrupted
        # One job at a time: the quick one is saved, then the first slow one is submitted.
        text = ANSI.sub("", output.decode(errors="replace"))
        if not interrupted and "saved out/0001" in text and text.count("submitted") >= 2:
            interrupted = True
            process.send_signal(signal.SIGINT)

    run = run_in_terminal(
        ["batch", "prompts.txt", "-o", "out", "--concurrency", "1", "--steps", "50", "-v",
         "--url", server.url],
        cwd=tmp_path,
        on_output=interrupt_once_the_slow_job_runs,
    )  # fmt: skip
    assert interrupted, run.text
    assert run.returncode == 130, run.text
    text = ANSI.sub("", run.text)
    # -v shows the SDK's log: the running jobs were cancelled on the Space before the exit.
    assert re.search(r"job \w+ cancelled: HTTP 200", text), text
    assert "interrupted: 1 of 4 images saved in out; 3 not finished:" in text
    assert 'line 4 "[slow] three": not finished' in text
    assert "error: interrupted: any running job was cancelled on the Space" in text
    assert sorted(path.name for path in (tmp_path / "out").glob("*.webp")) == [
        "0001-a-quick-fox.webp"
    ]


def _read_rest(master: int) -> str:
    """What is left on a pseudo-terminal whose other side has closed."""
    rest = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        rest += chunk
    return rest.decode("utf-8", errors="replace")


@posix_only
def test_sigterm_prints_the_partial_summary_and_exits_143(server: Server, tmp_path: Path) -> None:
    prompt_file(tmp_path, "a quick fox", "[slow] then a slow one")
    first = tmp_path / "out" / "0001-a-quick-fox.webp"
    # stdout is a pipe; stderr is a terminal, where the live display says "saved" the moment
    # the first image is written, while the slow job still runs.
    master, slave = pty.openpty()
    with subprocess.Popen(
        [*FLUX, "batch", "prompts.txt", "-o", "out", "--concurrency", "1", "--steps", "50",
         "--url", server.url],
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=tmp_path,
        env=environment(),
    ) as process:  # fmt: skip
        os.close(slave)
        shown = b""
        try:
            while b"saved" not in shown:
                ready, _, _ = select.select([master], [], [], LIMIT)
                assert ready, f"the first image never appeared; the display showed {shown!r}"
                shown += os.read(master, 65536)
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=LIMIT)
            err = _read_rest(master)
        finally:
            os.close(master)
            if process.poll() is None:
                process.kill()
    assert process.returncode == 143, err
    summary = out.decode()
    assert summary.startswith("interrupted: 1 of 2 images saved in out; 1 not finished:"), summary
    assert 'line 2 "[slow] then a slow one": not finished' in summary
    assert "error: interrupted: any running job was cancelled on the Space" in err, err
    assert is_webp(first)


@pytest.mark.skipif(NO_GRADIO, reason="needs gradio in this interpreter (the [local] extra)")
@pytest.mark.parametrize("kind", ["flux-schnell", "flux-dev"])
def test_batch_on_the_local_space(tmp_path: Path, kind: str) -> None:
    prompt_file(tmp_path, "a fox", "a lighthouse")
    result = run_flux(
        "batch", "prompts.txt", "-o", "out", "--steps", "2", "--space", kind, "--url", "local",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert one_json(result.stdout)["succeeded"] == 2
    assert is_webp(tmp_path / "out" / "0002-a-lighthouse.webp")


# -- --space flux-dev -----------------------------------------------------------------------------


def test_info_compares_with_the_dev_descriptor(dev_server: Server) -> None:
    matching = run_flux("info", "--space", "flux-dev", "--url", dev_server.url, "--json")
    assert matching.returncode == 0, matching.stderr
    body = one_json(matching.stdout)
    names = [cast(JSONObject, p)["name"] for p in cast("list[object]", body["parameters"])]
    assert "guidance_scale" in names
    assert body["matches_sdk"] is True
    # Against the schnell descriptor, the dev Space's extra input is a mismatch.
    schnell = run_flux("info", "--url", dev_server.url, "--json")
    assert schnell.returncode == 3
    assert "guidance_scale" in str(one_json(schnell.stdout)["mismatches"])


def test_generate_with_the_dev_model_and_guidance(dev_server: Server, tmp_path: Path) -> None:
    result = run_flux(
        "generate", "a fox", "--space", "flux-dev", "--guidance", "5", "--steps", "3",
        "--seed", "4", "--url", dev_server.url, "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert one_json(result.stdout)["seed"] == 4
    assert is_webp(tmp_path / "flux-4.webp")


def test_batch_with_the_dev_model(dev_server: Server, tmp_path: Path) -> None:
    prompt_file(tmp_path, "a fox", "a lighthouse")
    result = run_flux(
        "batch", "prompts.txt", "-o", "out", "--space", "flux-dev", "--steps", "2",
        "--url", dev_server.url, "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert one_json(result.stdout)["succeeded"] == 2


def test_guidance_needs_the_dev_model() -> None:
    result = run_flux(
        "generate", "a fox", "--guidance", "4", "--url", "http://127.0.0.1:9", "--json"
    )
    assert result.returncode == 2
    assert "--space flux-dev" in str(one_json(result.stderr)["message"])
