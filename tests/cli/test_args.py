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
from flux_sdk._cli import build_parser, main, parse_args
from flux_sdk._cli._args import (
    KIND_URLS,
    KINDS,
    SEED_HELP,
    SIZE_HELP,
    STEPS_HELP,
    BatchOptions,
    CommandLineError,
    GenerateOptions,
    InfoOptions,
    Options,
    ServeLocalOptions,
    SpaceKind,
    parse_command_line,
)
from flux_sdk._cli._errors import EXIT_CODE_HELP, ExitCode
from flux_sdk._cli._generate import Saved, default_filename, output_path, request_for
from flux_sdk._cli._output import OutputMode
from flux_sdk._limits import (
    DEFAULT_SIZE,
    DEV_STEPS,
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    MIN_STEPS,
    SCHNELL_STEPS,
    SIZE_STEP,
)
from flux_sdk._models import Generation
from flux_sdk._spaces import FLUX_DEV, FLUX_SCHNELL, SPACES
from flux_sdk.local import LocalSpace


def test_generate_defaults() -> None:
    command = parse_args(["generate", "a red fox"])
    assert command == GenerateOptions(prompt="a red fox")
    assert isinstance(command, GenerateOptions)
    assert command.seed is None
    assert command.url == DEFAULT_SPACE
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
            "--url",
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
    assert command == GenerateOptions(
        prompt="a red fox",
        output="fox.webp",
        width=768,
        height=512,
        steps=8,
        seed=7,
        url="http://127.0.0.1:7860",
        token="hf_x",
        protocol="call",
        timeout=90.0,
        json=True,
        verbose=True,
    )


def test_space_local() -> None:
    assert parse_args(["info", "--url", "local"]) == InfoOptions(url="local")


def test_generate_model_guidance_and_wait_on_quota() -> None:
    command = parse_args(
        ["generate", "a fox", "--space", "flux-dev", "--guidance", "4.5", "--wait-on-quota"]
    )
    assert command == GenerateOptions(
        prompt="a fox",
        url=FLUX_DEV.url,
        space="flux-dev",
        guidance=4.5,
        wait_on_quota=True,
    )


def test_the_model_picks_the_default_space_but_not_an_explicit_one() -> None:
    assert parse_args(["generate", "x"]) == GenerateOptions(prompt="x", url=FLUX_SCHNELL.url)
    assert parse_args(["generate", "x", "--space", "flux-dev"]) == GenerateOptions(
        prompt="x", url=FLUX_DEV.url, space="flux-dev"
    )
    assert parse_args(["info", "--space", "flux-dev"]) == InfoOptions(
        url=FLUX_DEV.url, space="flux-dev"
    )
    assert parse_args(["generate", "x", "--space", "flux-dev", "--url", "local"]) == (
        GenerateOptions(prompt="x", url="local", space="flux-dev")
    )


def test_guidance_needs_the_dev_model() -> None:
    with pytest.raises(CommandLineError, match="--space flux-dev") as raised:
        parse_args(["generate", "x", "--guidance", "4"])
    assert raised.value.usage.startswith("usage: flux generate")


def test_the_kinds_agree_with_the_sdk() -> None:
    for kind in KINDS:
        assert SPACES[kind].url == KIND_URLS[kind]
        assert LocalSpace(space=kind).space == kind  # the local Space serves each kind
    assert FLUX_SCHNELL.defaults.get("num_inference_steps") == SCHNELL_STEPS
    assert FLUX_DEV.defaults.get("num_inference_steps") == DEV_STEPS


def test_the_model_decides_the_defaults_left_out() -> None:
    schnell = build_request(_options())
    assert (schnell.num_inference_steps, schnell.guidance_scale) == (4, None)
    dev = build_request(_options(space="flux-dev"))
    assert dev.num_inference_steps == 28
    assert FLUX_DEV.data(dev)[5] == 3.5  # the Space's default guidance is sent
    tuned = build_request(_options(space="flux-dev", steps=10, guidance=6.0))
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
        ["generate", "x", "--url", "ftp://example.org"],
        ["generate", "x", "--url", "127.0.0.1:7860"],
        ["generate", "x", "--timeout", "0"],
        ["generate", "x", "--timeout", "soon"],
        ["info", "--width", "768"],
        ["serve-local", "--port", "0"],
        ["serve-local", "--port", "70000"],
        ["serve-local", "--step-delay", "-1"],
        ["serve-local", "--step-delay", "inf"],
        ["serve-local", "--space", "flux-pro"],
        # --step-delay slows the local Space: with a URL, or the default public Space, no.
        ["generate", "x", "--step-delay", "0.1"],
        ["generate", "x", "--step-delay", "0.1", "--url", "http://127.0.0.1:7860"],
        ["batch", "f.txt", "-o", "out", "--step-delay", "0.1"],
        ["info", "--url", "local", "--step-delay", "0.1"],
    ],
)
def test_bad_command_lines_raise_usage_errors(argv: list[str]) -> None:
    with pytest.raises(CommandLineError) as raised:
        parse_args(argv)
    assert raised.value.usage.startswith("usage: flux")


def test_out_of_range_values_parse_and_are_left_to_the_sdk() -> None:
    command = parse_args(["generate", "x", "--width", "1000", "--seed", "-1"])
    assert isinstance(command, GenerateOptions)
    assert (command.width, command.seed) == (1000, -1)


def test_serve_local() -> None:
    assert parse_args(["serve-local"]) == ServeLocalOptions()
    assert parse_args(["serve-local", "--port", "7860", "--faults"]) == ServeLocalOptions(
        port=7860, faults=True
    )
    assert parse_args(
        ["serve-local", "--space", "flux-dev", "--step-delay", "0.25"]
    ) == ServeLocalOptions(space="flux-dev", step_delay=0.25)
    assert parse_args(["serve-local", "--step-delay", "0"]) == ServeLocalOptions(step_delay=0.0)


def test_step_delay_with_the_local_space() -> None:
    command = parse_args(["generate", "x", "--url", "local", "--step-delay", "0.5"])
    assert isinstance(command, GenerateOptions)
    assert command.step_delay == 0.5
    batch = parse_args(["batch", "f.txt", "-o", "out", "--url", "local", "--step-delay", "0"])
    assert isinstance(batch, BatchOptions)
    assert batch.step_delay == 0.0
    assert parse_args(["generate", "x"]) == GenerateOptions(prompt="x", step_delay=None)


def test_help_texts_match_the_sdk_limits() -> None:
    request = GenerateRequest(prompt="x")
    assert (
        request.width,
        request.height,
        request.num_inference_steps,
    ) == (DEFAULT_SIZE, DEFAULT_SIZE, SCHNELL_STEPS)
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


def _options(
    *,
    space: SpaceKind = "flux-schnell",
    steps: int | None = None,
    guidance: float | None = None,
    seed: int | None = None,
) -> GenerateOptions:
    return GenerateOptions(
        prompt="a red fox",
        width=768,
        height=512,
        url="http://127.0.0.1:7860",
        space=space,
        steps=steps,
        guidance=guidance,
        seed=seed,
    )


def build_request(options: GenerateOptions) -> GenerateRequest:
    return request_for(options.prompt, options)


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
    status = main(["generate", "x", "--width", "1000", "--url", "http://127.0.0.1:9", "--json"])
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


# -- the SDK's names: --url is where the Space runs, --space is which kind it is ------------------


def test_url_and_space_name_what_the_sdk_names() -> None:
    command = parse_args(["generate", "x", "--url", "http://127.0.0.1:7860", "--space", "flux-dev"])
    assert command == GenerateOptions(prompt="x", url="http://127.0.0.1:7860", space="flux-dev")
    assert parse_args(["info", "--space", "flux-dev"]) == InfoOptions(
        url=KIND_URLS["flux-dev"], space="flux-dev"
    )
    assert parse_args(["serve-local", "--space", "flux-dev"]) == ServeLocalOptions(space="flux-dev")


@pytest.mark.parametrize(
    ("argv", "expected", "warning"),
    [
        (
            ["generate", "x", "--model", "flux-dev"],
            GenerateOptions(prompt="x", url=KIND_URLS["flux-dev"], space="flux-dev"),
            "--model is deprecated and will stop working in the next release: use --space flux-dev",
        ),
        (
            ["generate", "x", "--space", "http://127.0.0.1:7860/"],
            GenerateOptions(prompt="x", url="http://127.0.0.1:7860"),
            "--space http://127.0.0.1:7860/ is deprecated and will stop working in the next "
            "release: use --url http://127.0.0.1:7860/ (--space names the kind of Space: "
            "flux-schnell or flux-dev)",
        ),
        (
            ["batch", "f.txt", "-o", "out", "--space", "local", "--step-delay", "0"],
            BatchOptions(file="f.txt", output="out", url="local", step_delay=0.0),
            "--space local is deprecated and will stop working in the next release: "
            "use --url local (--space names the kind of Space: flux-schnell or flux-dev)",
        ),
        (
            ["info", "--model", "flux-dev", "--space", "http://127.0.0.1:7860"],
            InfoOptions(url="http://127.0.0.1:7860", space="flux-dev"),
            "--model is deprecated and will stop working in the next release: use --space flux-dev",
        ),
        (
            ["serve-local", "--model", "flux-dev"],
            ServeLocalOptions(space="flux-dev"),
            "--model is deprecated and will stop working in the next release: use --space flux-dev",
        ),
    ],
)
def test_the_old_spellings_still_work_with_a_warning(
    argv: list[str], expected: Options, warning: str
) -> None:
    options, deprecated = parse_command_line(argv)
    assert options == expected
    assert deprecated[0] == warning
    assert len(deprecated) == (2 if argv[0] == "info" else 1)  # info: --model and --space URL


def test_the_old_spellings_are_hidden_from_the_help() -> None:
    for command in ("generate", "batch", "info", "serve-local"):
        with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:
            parse_args([command, "--help"])
        assert "--model" not in out.getvalue()
        assert "--space KIND" in out.getvalue()
    with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:
        parse_args(["generate", "--help"])
    assert "--url URL|local" in out.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "x", "--space", "flux-pro"],
        ["generate", "x", "--space", "ftp://example.org"],
        ["generate", "x", "--model", "http://127.0.0.1:7860"],
        ["generate", "x", "--url", "flux-dev"],
        ["serve-local", "--space", "http://127.0.0.1:7860"],
        ["serve-local", "--space", "local"],
        ["serve-local", "--url", "http://127.0.0.1:7860"],
    ],
)
def test_a_kind_is_not_a_url_and_a_url_is_not_a_kind(argv: list[str]) -> None:
    with pytest.raises(CommandLineError) as raised:
        parse_args(argv)
    assert raised.value.usage.startswith("usage: flux")


def test_main_prints_one_deprecation_line_then_runs(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 has no server: the invalid width stops the command before any I/O.
    argv = ["generate", "x", "--width", "1000", "--space", "http://127.0.0.1:9"]
    assert main(argv) == 4
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("warning: --space http://127.0.0.1:9 is deprecated")
    assert lines[1].startswith("error: invalid --width 1000")
    assert main([*argv, "--json"]) == 4
    warning, error = capsys.readouterr().err.splitlines()
    assert json.loads(warning) == {
        "warning": "--space http://127.0.0.1:9 is deprecated and will stop working in the next "
        "release: use --url http://127.0.0.1:9 (--space names the kind of Space: "
        "flux-schnell or flux-dev)"
    }
    assert json.loads(error)["error"] == "InvalidRequestError"
