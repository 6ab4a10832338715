"""The command line: parsing, output modes, and main() for what needs no Space."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import cast

import pytest

from flux_sdk import DEFAULT_SPACE, GenerateRequest
from flux_sdk._cli import (
    DEFAULT_DEV_STEPS,
    DEFAULT_HEIGHT,
    DEFAULT_STEPS,
    DEFAULT_WIDTH,
    MODEL_SPACES,
    MODELS,
    SEED_HELP,
    SIZE_HELP,
    STEPS_HELP,
    BatchCommand,
    CommandLineError,
    GenerateCommand,
    InfoCommand,
    OutputMode,
    ServeLocalCommand,
    build_parser,
    main,
    parse_args,
)
from flux_sdk._cli._errors import EXIT_CODE_HELP, ExitCode
from flux_sdk._cli._generate import (
    GenerateOptions,
    Saved,
    build_request,
    default_filename,
    output_path,
)
from flux_sdk._cli._local import LOCAL_MODELS
from flux_sdk._limits import MAX_SEED, MAX_SIZE, MAX_STEPS, MIN_SIZE, MIN_STEPS, SIZE_STEP
from flux_sdk._models import Generation
from flux_sdk._spaces import FLUX_DEV, FLUX_SCHNELL, SPACES


def test_generate_defaults() -> None:
    command = parse_args(["generate", "a red fox"])
    assert command == GenerateCommand(prompt="a red fox")
    assert isinstance(command, GenerateCommand)
    assert command.seed is None
    assert command.space == DEFAULT_SPACE
    assert command.protocol == "auto"
    assert not command.json


def test_generate_every_option() -> None:
    command = parse_args(
        [
            "generate",
            "a red fox",
            "-o",
            "fox.webp",
            "--width",
            "768",
            "--height",
            "512",
            "--steps",
            "8",
            "--seed",
            "7",
            "--space",
            "http://127.0.0.1:7860/",
            "--token",
            "hf_x",
            "--protocol",
            "call",
            "--timeout",
            "90",
            "--json",
            "-v",
        ]
    )
    assert command == GenerateCommand(
        prompt="a red fox",
        output="fox.webp",
        width=768,
        height=512,
        steps=8,
        seed=7,
        space="http://127.0.0.1:7860",
        token="hf_x",
        protocol="call",
        timeout=90.0,
        json=True,
        verbose=True,
    )


def test_space_local() -> None:
    assert parse_args(["info", "--space", "local"]) == InfoCommand(space="local")


def test_generate_model_guidance_and_wait_on_quota() -> None:
    command = parse_args(
        ["generate", "a fox", "--model", "flux-dev", "--guidance", "4.5", "--wait-on-quota"]
    )
    assert command == GenerateCommand(
        prompt="a fox",
        space=FLUX_DEV.url,
        model="flux-dev",
        guidance=4.5,
        wait_on_quota=True,
    )


def test_the_model_picks_the_default_space_but_not_an_explicit_one() -> None:
    assert parse_args(["generate", "x"]) == GenerateCommand(prompt="x", space=FLUX_SCHNELL.url)
    assert parse_args(["generate", "x", "--model", "flux-dev"]) == GenerateCommand(
        prompt="x", space=FLUX_DEV.url, model="flux-dev"
    )
    assert parse_args(["info", "--model", "flux-dev"]) == InfoCommand(
        space=FLUX_DEV.url, model="flux-dev"
    )
    assert parse_args(["generate", "x", "--model", "flux-dev", "--space", "local"]) == (
        GenerateCommand(prompt="x", space="local", model="flux-dev")
    )


def test_guidance_needs_the_dev_model() -> None:
    with pytest.raises(CommandLineError, match="--model flux-dev") as raised:
        parse_args(["generate", "x", "--guidance", "4"])
    assert raised.value.usage.startswith("usage: flux generate")


def test_the_models_agree_with_the_sdk() -> None:
    for model in MODELS:
        assert SPACES[model].url == MODEL_SPACES[model]
        assert model in LOCAL_MODELS
    assert FLUX_SCHNELL.defaults.get("num_inference_steps") == DEFAULT_STEPS
    assert FLUX_DEV.defaults.get("num_inference_steps") == DEFAULT_DEV_STEPS


def test_the_model_decides_the_defaults_left_out() -> None:
    schnell = build_request(_options())
    assert (schnell.num_inference_steps, schnell.guidance_scale) == (4, None)
    dev = build_request(_options(model="flux-dev"))
    assert dev.num_inference_steps == 28
    assert FLUX_DEV.data(dev)[5] == 3.5  # the Space's default guidance is sent
    tuned = build_request(_options(model="flux-dev", steps=10, guidance=6.0))
    assert (tuned.num_inference_steps, tuned.guidance_scale) == (10, 6.0)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["generate"],
        ["paint", "x"],
        ["generate", "x", "--width", "wide"],
        ["generate", "x", "--seed", "1.5"],
        ["generate", "x", "--protocol", "websocket"],
        ["generate", "x", "--space", "ftp://example.org"],
        ["generate", "x", "--space", "127.0.0.1:7860"],
        ["generate", "x", "--timeout", "0"],
        ["generate", "x", "--timeout", "soon"],
        ["info", "--width", "768"],
        ["serve-local", "--port", "0"],
        ["serve-local", "--port", "70000"],
        ["serve-local", "--step-delay", "-1"],
        ["serve-local", "--step-delay", "inf"],
        ["serve-local", "--model", "flux-pro"],
        # --step-delay slows the local Space: with a URL, or the default public Space, no.
        ["generate", "x", "--step-delay", "0.1"],
        ["generate", "x", "--step-delay", "0.1", "--space", "http://127.0.0.1:7860"],
        ["batch", "f.txt", "-o", "out", "--step-delay", "0.1"],
        ["info", "--space", "local", "--step-delay", "0.1"],
    ],
)
def test_bad_command_lines_raise_usage_errors(argv: list[str]) -> None:
    with pytest.raises(CommandLineError) as raised:
        parse_args(argv)
    assert raised.value.usage.startswith("usage: flux")


def test_out_of_range_values_parse_and_are_left_to_the_sdk() -> None:
    command = parse_args(["generate", "x", "--width", "1000", "--seed", "-1"])
    assert isinstance(command, GenerateCommand)
    assert (command.width, command.seed) == (1000, -1)


def test_serve_local() -> None:
    assert parse_args(["serve-local"]) == ServeLocalCommand()
    assert parse_args(["serve-local", "--port", "7860", "--faults"]) == ServeLocalCommand(
        port=7860, faults=True
    )
    assert parse_args(
        ["serve-local", "--model", "flux-dev", "--step-delay", "0.25"]
    ) == ServeLocalCommand(model="flux-dev", step_delay=0.25)
    assert parse_args(["serve-local", "--step-delay", "0"]) == ServeLocalCommand(step_delay=0.0)


def test_step_delay_with_the_local_space() -> None:
    command = parse_args(["generate", "x", "--space", "local", "--step-delay", "0.5"])
    assert isinstance(command, GenerateCommand)
    assert command.step_delay == 0.5
    batch = parse_args(["batch", "f.txt", "-o", "out", "--space", "local", "--step-delay", "0"])
    assert isinstance(batch, BatchCommand)
    assert batch.step_delay == 0.0
    assert parse_args(["generate", "x"]) == GenerateCommand(prompt="x", step_delay=None)


def test_help_texts_match_the_sdk_limits() -> None:
    request = GenerateRequest(prompt="x")
    assert (
        request.width,
        request.height,
        request.num_inference_steps,
    ) == (DEFAULT_WIDTH, DEFAULT_HEIGHT, DEFAULT_STEPS)
    assert f"a multiple of {SIZE_STEP} from {MIN_SIZE} to {MAX_SIZE}" == SIZE_HELP
    assert f"{MIN_STEPS} to {MAX_STEPS}" == STEPS_HELP
    assert f"0 to {MAX_SEED}" == SEED_HELP


def test_every_command_has_help() -> None:
    text = build_parser().format_help()
    for command in ("generate", "batch", "info", "serve-local"):
        assert command in text


def test_help_lists_every_exit_status_and_names_no_file() -> None:
    # An installed user has no docs/ folder: flux --help must be enough on its own.
    text = build_parser().format_help()
    assert "docs/" not in text
    listed = re.findall(r"^  (\d+) +(\S.*)$", text.split("exit statuses:")[1], re.MULTILINE)
    assert [int(code) for code, _ in listed] == [int(code) for code in ExitCode]
    assert dict(listed)["20"] == EXIT_CODE_HELP[ExitCode.MISSING_EXTRA]
    assert set(EXIT_CODE_HELP) == set(ExitCode)
    for command in ("generate", "batch", "info", "serve-local"):
        with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:
            parse_args([command, "--help"])
        assert "docs/" not in out.getvalue()
        assert "flux --help" in out.getvalue()


def test_the_docs_list_the_same_exit_statuses() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    table = docs.split("## Exit codes")[1].split("\n## ")[0]
    assert [int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)] == [
        int(code) for code in ExitCode
    ]


@pytest.mark.parametrize(
    ("json_flag", "stdout_tty", "stderr_tty", "expected"),
    [
        (False, True, True, OutputMode(json_result=False, json_errors=False, live=True)),
        (True, True, True, OutputMode(json_result=True, json_errors=True, live=False)),
        # Not a terminal: the same lines for people (a CI log, a pipe); JSON only if asked.
        (False, False, False, OutputMode(json_result=False, json_errors=False, live=False)),
        (False, False, True, OutputMode(json_result=False, json_errors=False, live=True)),
        (False, True, False, OutputMode(json_result=False, json_errors=False, live=False)),
        (True, False, False, OutputMode(json_result=True, json_errors=True, live=False)),
    ],
)
def test_output_mode(
    json_flag: bool, stdout_tty: bool, stderr_tty: bool, expected: OutputMode
) -> None:
    assert (
        OutputMode.detect(json_flag=json_flag, stdout_tty=stdout_tty, stderr_tty=stderr_tty)
        == expected
    )


def _options(**changes: object) -> GenerateOptions:
    values: dict[str, object] = {
        "prompt": "a red fox",
        "output": None,
        "width": 768,
        "height": 512,
        "steps": None,
        "seed": None,
        "space": "http://127.0.0.1:7860",
        "token": None,
        "protocol": "auto",
        "timeout": None,
    }
    values.update(changes)
    return GenerateOptions(**values)  # type: ignore[arg-type]


def test_no_seed_randomizes() -> None:
    request = build_request(_options())
    assert request.randomize_seed
    assert request.seed == 0


def test_a_seed_is_used_as_is() -> None:
    request = build_request(_options(seed=7))
    assert not request.randomize_seed
    assert request.seed == 7


def test_output_paths(tmp_path: Path) -> None:
    assert default_filename(7) == "flux-7.webp"
    assert output_path(None, 7) == Path("flux-7.webp")
    assert output_path(str(tmp_path), 7) == tmp_path / "flux-7.webp"
    assert output_path(str(tmp_path / "fox.webp"), 7) == tmp_path / "fox.webp"


def test_saved_reports() -> None:
    request = GenerateRequest(prompt="a red fox", width=768, height=512, seed=7)
    generation = Generation(
        url="http://127.0.0.1/file=x.webp", path="x.webp", seed=7, request=request
    )
    saved = Saved(path=Path("fox.webp"), generation=generation)
    assert saved.summary() == "saved fox.webp (768\N{MULTIPLICATION SIGN}512, seed 7)"
    body = saved.to_json()
    assert body == {
        "path": str(Path("fox.webp").resolve()),
        "url": "http://127.0.0.1/file=x.webp",
        "seed": 7,
        "width": 768,
        "height": 512,
        "prompt": "a red fox",
    }
    # A local Space started for the command has stopped with it: no dead link.
    local = Saved(path=Path("fox.webp"), generation=generation, local=True)
    assert local.to_json()["url"] is None
    assert local.summary() == saved.summary()


def _stderr_json(err: str) -> dict[str, object]:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return cast("dict[str, object]", json.loads(lines[0]))


def test_main_reports_an_invalid_value_before_any_io(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 (discard) has no server: reaching it would be a connection error, not exit 4.
    status = main(["generate", "x", "--width", "1000", "--space", "http://127.0.0.1:9", "--json"])
    out, err = capsys.readouterr()
    assert status == 4
    assert out == ""
    error = _stderr_json(err)
    assert error["error"] == "InvalidRequestError"
    assert error["exit_code"] == 4
    assert "--width 1000" in str(error["message"])
    assert "retry_after" not in error


def test_main_reports_usage_errors_as_json_with_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["generate", "--json"]) == 2
    error = _stderr_json(capsys.readouterr().err)
    assert error["error"] == "UsageError"
    assert "PROMPT" in str(error["message"])


def test_main_reports_usage_errors_as_text_when_not_on_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["generate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: flux generate")
    assert "flux generate: error:" in err


def test_main_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "generate" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("flux-sdk ")
