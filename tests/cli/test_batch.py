"""``flux batch`` without a Space: the prompt file, the image names, the result and exit code."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import cast

import pytest

from flux_sdk._cli import parse_args
from flux_sdk._cli._args import DEFAULT_CONCURRENCY, BatchOptions, CommandLineError
from flux_sdk._cli._batch import (
    MAX_SLUG,
    BatchResult,
    PromptLine,
    PromptReport,
    image_name,
    parse_prompts,
    read_prompts,
    slugify,
)
from flux_sdk._cli._errors import ExitCode, Failure, UsageError

# -- the prompt file ------------------------------------------------------------------------------


def test_one_prompt_a_line_without_blank_and_comment_lines() -> None:
    lines = [
        "# foxes, then a lighthouse",
        "a red fox in fresh snow",
        "",
        "   ",
        "  # an indented comment",
        "\ta fox # not a comment\t",
        "a lighthouse at dusk",
    ]
    assert parse_prompts(lines) == [
        PromptLine(index=1, line=2, prompt="a red fox in fresh snow"),
        PromptLine(index=2, line=6, prompt="a fox # not a comment"),
        PromptLine(index=3, line=7, prompt="a lighthouse at dusk"),
    ]


def test_an_empty_file_has_no_prompts() -> None:
    assert parse_prompts([]) == []
    assert parse_prompts(["", "# nothing"]) == []


def test_read_prompts_from_a_utf8_file_with_a_bom(tmp_path: Path) -> None:
    file = tmp_path / "prompts.txt"
    file.write_bytes("\ufeffcafé au lait\r\n\r\n# x\r\nun renard\r\n".encode())
    prompts = read_prompts(str(file))
    assert [(p.index, p.line, p.prompt) for p in prompts] == [
        (1, 1, "café au lait"),
        (2, 4, "un renard"),
    ]


def test_read_prompts_from_stdin() -> None:
    prompts = read_prompts("-", stdin=io.StringIO("a fox\n\na lighthouse\n"))
    assert [p.prompt for p in prompts] == ["a fox", "a lighthouse"]


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the prompt file"):
        read_prompts(str(tmp_path / "missing.txt"))
    binary = tmp_path / "image.webp"
    binary.write_bytes(b"RIFF\xff\xfe\x00WEBP")
    with pytest.raises(UsageError, match="not UTF-8"):
        read_prompts(str(binary))


# -- image names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "slug"),
    [
        ("a red fox in fresh snow", "a-red-fox-in-fresh-snow"),
        ("A Red  FOX, in -- fresh snow!", "a-red-fox-in-fresh-snow"),
        ("[error] boom", "error-boom"),
        ("Café au lait, très chaud", "cafe-au-lait-tres-chaud"),
        ("  __42 foxes__  ", "42-foxes"),
        ("狐狸", ""),
        ("!!!", ""),
        ("a/b\\c:d*e?f", "a-b-c-d-e-f"),
    ],
)
def test_slugify(prompt: str, slug: str) -> None:
    assert slugify(prompt) == slug


def test_a_slug_has_at_most_40_characters_and_no_trailing_hyphen() -> None:
    slug = slugify("a very long prompt about a red fox walking in fresh snow at dawn")
    assert len(slug) <= MAX_SLUG == 40
    assert slug == "a-very-long-prompt-about-a-red-fox-walki"
    # The cut falls right after a word: the hyphen that followed it goes too.
    assert slugify("x" * 39 + " and more") == "x" * 39
    assert slugify("abcdefghij " * 10) == "abcdefghij-abcdefghij-abcdefghij-abcdefg"


def test_slugs_are_lowercase_ascii_letters_digits_and_hyphens() -> None:
    for prompt in ["Ünïcödé ✨ PROMPT №5", "tab\tand\nnewline", "-leading and trailing-"]:
        slug = slugify(prompt)
        assert slug == slug.strip("-")
        assert "--" not in slug
        assert all(char in "abcdefghijklmnopqrstuvwxyz0123456789-" for char in slug)


def test_image_names() -> None:
    assert image_name(1, "a red fox") == "0001-a-red-fox.webp"
    assert image_name(42, "[error] boom") == "0042-error-boom.webp"
    assert image_name(7, "狐狸") == "0007.webp"
    assert image_name(12345, "fox") == "12345-fox.webp"
    assert PromptLine(index=3, line=9, prompt="A fox!").filename == "0003-a-fox.webp"


# -- the result -----------------------------------------------------------------------------------

FAILED = Failure(ExitCode.JOB_FAILED, "JobFailedError", "the job failed on the Space: boom")
GPU = Failure(ExitCode.GPU_UNAVAILABLE, "GPUUnavailableError", "no GPU was free on the Space")


def _prompt(index: int, prompt: str = "a fox") -> PromptLine:
    return PromptLine(index=index, line=index + 1, prompt=prompt)


def _saved(index: int) -> PromptReport:
    return PromptReport(_prompt(index), path=Path(f"out/{index:04d}-a-fox.webp"), seed=index)


def _failed(index: int, failure: Failure = FAILED) -> PromptReport:
    return PromptReport(_prompt(index, "[error] boom"), failure=failure)


def _result(*outcomes: PromptReport) -> BatchResult:
    return BatchResult(outcomes=outcomes, directory=Path("out"))


def test_every_prompt_saved_is_success() -> None:
    result = _result(_saved(1), _saved(2))
    assert result.failure() is None
    assert (result.succeeded, result.failed) == (2, 0)
    assert result.summary() == "2 of 2 images saved in out"


def test_some_failed_exits_19() -> None:
    result = _result(_saved(1), _failed(2))
    failure = result.failure()
    assert failure is not None
    assert failure.exit_code == ExitCode.BATCH_INCOMPLETE
    assert int(ExitCode.BATCH_INCOMPLETE) == 19
    assert failure.error == "BatchIncomplete"
    assert failure.message == "1 of 2 prompts failed"


def test_all_failed_the_same_way_exits_with_that_code() -> None:
    failure = _result(_failed(1), _failed(2)).failure()
    assert failure is not None
    assert failure.exit_code == ExitCode.JOB_FAILED
    assert failure.error == "JobFailedError"
    assert "all 2 prompts failed" in failure.message
    assert "boom" in failure.message


def test_all_failed_in_different_ways_exits_19() -> None:
    failure = _result(_failed(1), _failed(2, GPU)).failure()
    assert failure is not None
    assert failure.exit_code == ExitCode.BATCH_INCOMPLETE


def test_the_summary_lists_each_failure_with_its_line_and_prompt() -> None:
    summary = _result(_saved(1), _failed(2), _saved(3)).summary()
    assert summary.splitlines() == [
        "2 of 3 images saved in out; 1 failed:",
        '  line 3 "[error] boom": the job failed on the Space: boom',
    ]


def test_the_summary_shortens_long_prompts() -> None:
    outcome = PromptReport(_prompt(1, "fox " * 40), failure=FAILED)
    line = outcome.failure_line()
    assert len(line) < 120
    assert "…" in line


def test_an_interrupted_batch_counts_what_did_not_finish() -> None:
    stopped = Failure(ExitCode.INTERRUPTED, "KeyboardInterrupt", "not finished")
    result = BatchResult(
        outcomes=(_saved(1), _failed(2), PromptReport(_prompt(3), failure=stopped)),
        directory=Path("out"),
        interrupted=KeyboardInterrupt(),
    )
    first = result.summary().splitlines()[0]
    assert first == "interrupted: 1 of 3 images saved in out; 1 failed, 1 not finished:"


def test_the_json_result() -> None:
    body = _result(_saved(1), _failed(2)).to_json()
    assert body == {
        "results": [
            {
                "line": 2,
                "index": 1,
                "prompt": "a fox",
                "path": str(Path("out/0001-a-fox.webp").resolve()),
                "seed": 1,
                "error": None,
                "error_class": None,
                "skipped": False,
            },
            {
                "line": 3,
                "index": 2,
                "prompt": "[error] boom",
                "path": None,
                "seed": None,
                "error": "the job failed on the Space: boom",
                "error_class": "JobFailedError",
                "skipped": False,
            },
        ],
        "failed": 1,
        "succeeded": 1,
        "skipped": 0,
        "failed_by_class": {"JobFailedError": 1},
    }


def test_an_empty_batch() -> None:
    result = _result()
    assert result.failure() is None
    assert result.to_json() == {
        "results": [],
        "failed": 0,
        "succeeded": 0,
        "skipped": 0,
        "failed_by_class": {},
    }
    assert "no prompts" in result.summary()


def _skipped(index: int) -> PromptReport:
    path = Path(f"out/{index:04d}-a-fox.webp")
    return PromptReport(_prompt(index), path=path, seed=index, skipped=True)


def test_the_summary_counts_saved_skipped_and_failed() -> None:
    result = _result(_skipped(1), _saved(2), _failed(3), _skipped(4))
    assert (result.succeeded, result.skipped, result.failed) == (1, 2, 1)
    assert result.summary().splitlines() == [
        "1 of 4 images saved in out, 2 skipped (already there); 1 failed:",
        '  line 4 "[error] boom": the job failed on the Space: boom',
    ]
    failure = result.failure()
    assert failure is not None
    assert (failure.exit_code, failure.message) == (
        ExitCode.BATCH_INCOMPLETE,
        "1 of 4 prompts failed",
    )
    body = result.to_json()
    assert (body["succeeded"], body["skipped"], body["failed"]) == (1, 2, 1)
    entries = cast("list[dict[str, object]]", body["results"])
    assert [entry["skipped"] for entry in entries] == [True, False, False, True]


def test_every_prompt_skipped_is_success() -> None:
    result = _result(_skipped(1), _skipped(2))
    assert result.failure() is None
    assert result.summary() == "0 of 2 images saved in out, 2 skipped (already there)"


def test_failures_of_several_classes_are_counted_by_class() -> None:
    stopped = Failure(ExitCode.INTERRUPTED, "KeyboardInterrupt", "not finished")
    result = BatchResult(
        outcomes=(
            _failed(1, GPU),
            _failed(2),
            _failed(3, GPU),
            PromptReport(_prompt(4), failure=stopped),
        ),
        directory=Path("out"),
        interrupted=KeyboardInterrupt(),
    )
    assert result.failed_by_class() == {
        "GPUUnavailableError": 2,
        "JobFailedError": 1,
        "KeyboardInterrupt": 1,
    }
    assert result.summary().splitlines()[0] == (
        "interrupted: 0 of 4 images saved in out; "
        "3 failed (2 GPUUnavailableError, 1 JobFailedError), 1 not finished:"
    )
    assert result.to_json()["failed_by_class"] == result.failed_by_class()


# -- the command line -----------------------------------------------------------------------------


def test_batch_defaults() -> None:
    command = parse_args(["batch", "prompts.txt", "-o", "out"])
    assert command == BatchOptions(file="prompts.txt", output="out")
    assert isinstance(command, BatchOptions)
    assert command.concurrency == DEFAULT_CONCURRENCY == 4
    assert command.steps is None
    assert command.space == "flux-schnell"
    assert not command.wait_on_quota


def test_batch_every_option() -> None:
    command = parse_args(
        ["batch", "-", "-o", "out", "--concurrency", "2", "--width", "768", "--height", "512",
         "--steps", "20", "--seed", "7", "--url", "local", "--space", "flux-dev",
         "--guidance", "4.5", "--token", "hf_x", "--protocol", "call", "--timeout", "90",
         "--wait-on-quota", "--json", "-v"]
    )  # fmt: skip
    assert command == BatchOptions(
        file="-",
        output="out",
        concurrency=2,
        width=768,
        height=512,
        steps=20,
        seed=7,
        url="local",
        token="hf_x",
        protocol="call",
        timeout=90.0,
        json=True,
        verbose=True,
        space="flux-dev",
        guidance=4.5,
        wait_on_quota=True,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["batch", "prompts.txt"],
        ["batch", "-o", "out"],
        ["batch", "prompts.txt", "-o", "out", "--concurrency", "0"],
        ["batch", "prompts.txt", "-o", "out", "--concurrency", "many"],
        ["batch", "prompts.txt", "-o", "out", "--space", "flux-pro"],
        ["batch", "prompts.txt", "-o", "out", "--guidance", "4"],
    ],
)
def test_bad_batch_command_lines(argv: list[str]) -> None:
    with pytest.raises(CommandLineError) as raised:
        parse_args(argv)
    assert raised.value.usage.startswith("usage: flux batch")


def test_the_docs_show_the_json_result_with_every_key() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    section = docs.split("## `flux batch`")[1].split("### With `--json`")[1]
    example = json.loads(section.split("```json\n")[1].split("\n```")[0])
    body = _result(_saved(1), _failed(2)).to_json()
    assert list(example) == list(body)
    entries = cast("list[dict[str, object]]", body["results"])
    assert [list(entry) for entry in example["results"]] == [list(entry) for entry in entries]
