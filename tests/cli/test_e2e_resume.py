"""``flux batch`` resumed, end to end in a subprocess, against real replicas behind a relay.

The relay (tests/lifecycle/_proxy.py) notes every request the Space receives, so "a re-run
sends nothing" and "the resumed run submits only the rest" are counted, and the Ctrl-C is sent
once the Space has the job (no sleeping). The relay's URL is the command's ``--url`` in both
runs: the same command, as a user would run it again.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from flux_sdk._cli._manifest import MANIFEST_NAME
from tests.cli._run import FLUX, LIMIT, environment, run_flux, run_in_terminal
from tests.lifecycle._proxy import Relay, Seen

from .conftest import Server
from .test_e2e_batch import ANSI, JSONObject, is_webp, one_json, prompt_file, results

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")


@pytest.fixture
def relay(server: Server) -> Iterator[Relay]:
    with Relay(server.url) as relay:
        yield relay


def joins(seen: list[Seen]) -> int:
    """The jobs the Space took: submissions by name (``POST {prefix}/call/infer``) it answered
    200, so not Gradio 4's 404 to the guessed ``/gradio_api`` prefix."""
    return sum(
        s.method == "POST" and s.path.endswith("/call/infer") and s.status == 200 for s in seen
    )


def config_reads(seen: list[Seen]) -> int:
    return sum(s.method == "GET" and s.path == "/config" for s in seen)


def manifest_files(directory: Path) -> list[str]:
    text = (directory / MANIFEST_NAME).read_text(encoding="utf-8")
    return [str(cast(JSONObject, json.loads(line))["file"]) for line in text.splitlines()]


def skipped(body: JSONObject) -> list[object]:
    return [entry["skipped"] for entry in results(body)]


def test_a_rerun_skips_every_saved_image_and_sends_the_space_nothing(
    server: Server, relay: Relay, tmp_path: Path
) -> None:
    prompt_file(tmp_path, "a fox", "a lighthouse", "a red fox")
    command = ("batch", "prompts.txt", "-o", "out", "--width", "512", "--url", relay.url)
    first = run_flux(*command, "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    made = one_json(first.stdout)
    assert (made["succeeded"], made["skipped"]) == (3, 0)
    out = tmp_path / "out"
    assert sorted(manifest_files(out)) == ["0001-a-fox.webp", "0002-a-lighthouse.webp",
                                           "0003-a-red-fox.webp"]  # fmt: skip
    before = len(relay.seen)

    again = run_flux(*command, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    body = one_json(again.stdout)
    assert (body["succeeded"], body["skipped"], body["failed"]) == (0, 3, 0)
    assert skipped(body) == [True, True, True]
    # The same paths and the seeds the Space used the first time.
    assert [(e["path"], e["seed"]) for e in results(body)] == [
        (e["path"], e["seed"]) for e in results(made)
    ]
    human = run_flux(*command, cwd=tmp_path)
    assert human.returncode == 0, human.stderr
    assert human.stdout.decode() == "0 of 3 images saved in out, 3 skipped (already there)\n"
    assert len(relay.seen) == before, relay.seen[before:]  # not even the config

    # An image removed, one changed, and a wider image asked for: made again; only those.
    (out / "0001-a-fox.webp").unlink()
    (out / "0002-a-lighthouse.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPbroken")
    repaired = run_flux(*command, "--json", cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    body = one_json(repaired.stdout)
    assert skipped(body) == [False, False, True]
    assert joins(relay.seen[before:]) == 2
    # A cold client reads /config only after the guessed prefix's 404 (Gradio 4), once for
    # the two jobs; on Gradio 5 and 6 never.
    assert config_reads(relay.seen[before:]) == (1 if server.major == 4 else 0)
    assert all(is_webp(Path(str(e["path"]))) for e in results(body))
    wider = run_flux(*command[:-3], "768", "--url", relay.url, "--json", cwd=tmp_path)
    assert wider.returncode == 0, wider.stderr
    assert one_json(wider.stdout)["succeeded"] == 3


def test_a_quota_failure_is_in_the_summary_and_tried_again(relay: Relay, tmp_path: Path) -> None:
    prompt_file(tmp_path, "a fox", "[quota] a lighthouse", "[error] boom")
    command = ("batch", "prompts.txt", "-o", "out", "--url", relay.url)
    first = run_flux(*command, "--json", cwd=tmp_path)
    assert first.returncode == 19, first.stderr
    body = one_json(first.stdout)
    assert (body["succeeded"], body["skipped"], body["failed"]) == (1, 0, 2)
    assert body["failed_by_class"] == {"JobFailedError": 1, "QuotaExceededError": 1}
    assert manifest_files(tmp_path / "out") == ["0001-a-fox.webp"]
    before = joins(relay.seen)

    again = run_flux(*command, cwd=tmp_path)
    assert again.returncode == 19, again.stderr
    summary = again.stdout.decode().splitlines()
    assert summary[0] == (
        "0 of 3 images saved in out, 1 skipped (already there); "
        "2 failed (1 JobFailedError, 1 QuotaExceededError):"
    ), summary
    assert summary[1].startswith('  line 2 "[quota] a lighthouse": '), summary
    assert "quota" in summary[1].lower()
    assert summary[2] == '  line 3 "[error] boom": the job failed on the Space: boom'
    assert joins(relay.seen) - before == 2  # the two failed prompts, not the saved one
    assert again.stderr.decode().startswith("error: 2 of 3 prompts failed")


@posix_only
def test_ctrl_c_then_the_same_command_finishes_only_the_rest(relay: Relay, tmp_path: Path) -> None:
    prompt_file(tmp_path, "a quick fox", "[slow] then a slow one", "a lighthouse")
    # One job at a time; a slow job takes 0.25 s a step, 3 s in all: the Ctrl-C comes first.
    command = [*FLUX, "batch", "prompts.txt", "-o", "out", "--concurrency", "1",
               "--steps", "12", "--json", "--url", relay.url]  # fmt: skip
    out = tmp_path / "out"
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environment(),
    ) as process:
        try:
            # The second job is submitted only once the first image and its line are written.
            relay.wait_for(lambda seen: joins(seen) >= 2, "the second job")
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=LIMIT)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130, stderr
    body = one_json(stdout)
    assert [entry["error_class"] for entry in results(body)] == [
        None,
        "KeyboardInterrupt",
        "KeyboardInterrupt",
    ]
    assert manifest_files(out) == ["0001-a-quick-fox.webp"]
    assert sorted(path.name for path in out.glob("*.webp")) == ["0001-a-quick-fox.webp"]
    assert not [path for path in out.iterdir() if path.name.startswith(".")]  # no partial file
    before = joins(relay.seen)

    resumed = run_flux(*command[len(FLUX) :], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    body = one_json(resumed.stdout)
    assert (body["succeeded"], body["skipped"], body["failed"]) == (2, 1, 0)
    assert skipped(body) == [True, False, False]
    assert joins(relay.seen) - before == 2
    assert sorted(manifest_files(out)) == [
        "0001-a-quick-fox.webp",
        "0002-slow-then-a-slow-one.webp",
        "0003-a-lighthouse.webp",
    ]
    assert all(is_webp(Path(str(entry["path"]))) for entry in results(body))


@posix_only
def test_ctrl_c_during_a_quota_pause_leaves_the_manifest_consistent(
    relay: Relay, tmp_path: Path
) -> None:
    prompt_file(tmp_path, "a fox", "[quota] a lighthouse")
    waiting = False

    def interrupt_once_it_waits(output: bytes, process: subprocess.Popen[bytes]) -> None:
        nonlocal waiting
        # The replica's quota error says to come back in 6:53: the batch waits, well within
        # the default --timeout, and -v shows the SDK's line saying so (wrapped, in colour).
        if not waiting and "(wait_on_quota)." in ANSI.sub("", output.decode(errors="replace")):
            waiting = True
            process.send_signal(signal.SIGINT)

    run = run_in_terminal(
        ["batch", "prompts.txt", "-o", "out", "--concurrency", "1", "--wait-on-quota", "-v",
         "--url", relay.url],
        cwd=tmp_path,
        on_output=interrupt_once_it_waits,
    )  # fmt: skip
    assert waiting, run.text
    assert run.returncode == 130, run.text
    assert "interrupted: 1 of 2 images saved in out; 1 not finished:" in ANSI.sub("", run.text)
    out = tmp_path / "out"
    assert sorted(path.name for path in out.iterdir()) == ["0001-a-fox.webp", MANIFEST_NAME]
    (line,) = (out / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()
    entry = cast(JSONObject, json.loads(line))
    image = (out / "0001-a-fox.webp").read_bytes()
    assert (entry["size"], entry["sha256"]) == (len(image), hashlib.sha256(image).hexdigest())
