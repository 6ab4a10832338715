"""``flux batch`` and ``flux generate`` run in this process against `FakeSpace` (no server).

The command builds its own client; these tests hand it the fake as its ``http_transport``.
Most ask for ``--json`` to read the result; without it the command prints lines for people.
The subprocess tests against the real replica are in test_e2e.py.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import cast

import pytest

import flux_sdk._cli._session
from flux_sdk import AsyncFluxClient
from flux_sdk._cli import main
from flux_sdk._cli._manifest import MANIFEST_NAME
from flux_sdk.testing import Fail, FakeSpace, Result

JSONObject = dict[str, object]
# A wait the Space names that is not zero ("Try again in 0:00:00" is no usable time, as spaces
# 0.40-0.48 send it at their runs limit) and is over at once.
SHORT_WAIT = "0:00:00.010000"


@pytest.fixture
def space(monkeypatch: pytest.MonkeyPatch) -> FakeSpace:
    """A fake Space with the fault tags on; the batch's and generate's clients use it."""
    fake = FakeSpace(faults=True, concurrency=None)
    monkeypatch.setattr(
        flux_sdk._cli._session,
        "AsyncFluxClient",
        functools.partial(AsyncFluxClient, http_transport=fake),
    )
    return fake


def _json(text: str) -> JSONObject:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return cast(JSONObject, json.loads(lines[0]))


def _results(body: JSONObject) -> list[JSONObject]:
    return cast("list[JSONObject]", body["results"])


def _prompts(tmp_path: Path, *lines: str) -> str:
    file = tmp_path / "prompts.txt"
    file.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(file)


def _webp(path: Path) -> bool:
    data = path.read_bytes()
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def test_a_batch_saves_each_image_under_its_name(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _prompts(tmp_path, "# two foxes", "a red fox", "", "[error] boom", "a fox, again!")
    out = tmp_path / "out" / "nested"
    status = main(["batch", file, "-o", str(out), "--seed", "7", "--concurrency", "2",
                   "--url", space.url, "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert status == 19
    body = _json(captured.out)
    assert (body["succeeded"], body["failed"]) == (2, 1)
    assert [(r["line"], r["index"], r["prompt"]) for r in _results(body)] == [
        (2, 1, "a red fox"),
        (4, 2, "[error] boom"),
        (5, 3, "a fox, again!"),
    ]
    first, failed, third = _results(body)
    assert first["path"] == str(out / "0001-a-red-fox.webp")
    assert third["path"] == str(out / "0003-a-fox-again.webp")
    assert first["seed"] == third["seed"] == 7
    assert (failed["path"], failed["seed"], failed["error_class"]) == (None, None, "JobFailedError")
    assert "boom" in str(failed["error"])
    assert sorted(path.name for path in out.iterdir()) == [
        "0001-a-red-fox.webp",
        "0003-a-fox-again.webp",
        MANIFEST_NAME,  # a line per image: see test_manifest.py
    ]
    assert all(_webp(path) for path in out.glob("*.webp"))
    error = _json(captured.err)
    assert error == {
        "error": "BatchIncomplete",
        "message": "1 of 3 prompts failed",
        "exit_code": 19,
    }


def test_all_failed_the_same_way_exits_with_that_class_code(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _prompts(tmp_path, "[gpu] one", "[gpu] two")
    status = main(["batch", file, "-o", str(tmp_path / "out"), "--url", space.url, "--json"])
    captured = capsys.readouterr()
    assert status == 9
    body = _json(captured.out)
    assert body["failed"] == 2
    assert {r["error_class"] for r in _results(body)} == {"GPUUnavailableError"}
    assert _json(captured.err)["error"] == "GPUUnavailableError"


def test_all_failed_in_different_ways_exits_19(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _prompts(tmp_path, "[gpu] one", "[error] two")
    assert main(["batch", file, "-o", str(tmp_path / "out"), "--url", space.url, "--json"]) == 19
    assert _json(capsys.readouterr().out)["succeeded"] == 0


def test_wait_on_quota_waits_and_tries_again(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _prompts(tmp_path, "a fox")
    out = str(tmp_path / "out")
    space.respond(Fail.quota(retry_after=SHORT_WAIT), Result(seed=5))
    assert main(["batch", file, "-o", out, "--wait-on-quota", "--url", space.url, "--json"]) == 0
    assert _results(_json(capsys.readouterr().out))[0]["seed"] == 5
    assert len(space.jobs) == 2

    space.respond(Fail.quota(retry_after=SHORT_WAIT))
    fresh = str(tmp_path / "fresh")  # in out, the fox's image is there: it would be skipped
    assert (
        main(["batch", file, "-o", fresh, "--url", space.url, "--json"]) == 6
    )  # without: quota's code
    assert _results(_json(capsys.readouterr().out))[0]["error_class"] == "QuotaExceededError"


def test_generate_wait_on_quota(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space.respond(Fail.quota(retry_after=SHORT_WAIT), Result(seed=3))
    status = main(
        [
            "generate",
            "a fox",
            "-o",
            str(tmp_path),
            "--wait-on-quota",
            "--url",
            space.url,
            "--json",
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert _json(capsys.readouterr().out)["seed"] == 3
    assert _webp(tmp_path / "flux-3.webp")


def test_an_invalid_value_fails_before_anything_starts(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _prompts(tmp_path, "a fox", "a lighthouse")
    out = tmp_path / "out"
    assert (
        main(["batch", file, "-o", str(out), "--width", "1000", "--url", space.url, "--json"]) == 4
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--width 1000" in str(_json(captured.err)["message"])
    assert space.requests == []
    assert not out.exists()


def test_an_empty_prompt_file_does_nothing(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _prompts(tmp_path, "# nothing yet", "")
    assert main(["batch", file, "-o", str(tmp_path / "out"), "--url", space.url, "--json"]) == 0
    assert _json(capsys.readouterr().out) == {
        "results": [],
        "failed": 0,
        "succeeded": 0,
        "skipped": 0,
        "failed_by_class": {},
    }
    assert space.requests == []


def test_a_missing_prompt_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["batch", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "out"), "--json"])
    assert status == 2
    error = _json(capsys.readouterr().err)
    assert error["error"] == "UsageError"
    assert "nope.txt" in str(error["message"])


def test_an_output_directory_that_is_a_file(
    space: FakeSpace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _prompts(tmp_path, "a fox")
    blocker = tmp_path / "out"
    blocker.write_text("not a directory")
    assert main(["batch", file, "-o", str(blocker), "--url", space.url, "--json"]) == 1
    error = _json(capsys.readouterr().err)
    assert error["error"] == "OutputError"
    assert "-o" in str(error["message"])
    assert space.requests == []
