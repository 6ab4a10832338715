"""`parse_config` on the real ``GET /config`` bodies of Gradio 4, 5 and 6 (README §1-§2)."""

from __future__ import annotations

import json
from typing import cast

import pytest

from flux_sdk import EndpointNotFoundError, ProtocolError
from flux_sdk._protocol import SpaceConfig, parse_config
from tests.unit._support import json_body


@pytest.mark.parametrize(
    ("line", "prefix", "version"),
    [(4, "", "4.44.1"), (5, "/gradio_api", "5.50.0"), (6, "/gradio_api", "6.31.0")],
)
def test_real_configs(line: int, prefix: str, version: str) -> None:
    config = parse_config(json_body(f"gradio{line}/01-get-config.txt"))
    assert config == SpaceConfig(api_prefix=prefix, fn_index=2, version=version)


def _g6() -> dict[str, object]:
    return cast("dict[str, object]", json_body("gradio6/01-get-config.txt"))


def test_other_api_names_are_found_by_id() -> None:
    assert parse_config(_g6(), api_name="load_example").fn_index == 1
    assert parse_config(_g6(), api_name="load_example_input").fn_index == 0


def test_config_without_infer_is_endpoint_not_found() -> None:
    config = _g6()
    dependencies = cast("list[dict[str, object]]", config["dependencies"])
    config["dependencies"] = [d for d in dependencies if d.get("api_name") != "infer"]
    with pytest.raises(EndpointNotFoundError, match="infer"):
        parse_config(config)


def test_renamed_endpoint_is_endpoint_not_found() -> None:
    with pytest.raises(EndpointNotFoundError):
        parse_config(_g6(), api_name="generate")


def test_trailing_slash_in_prefix_is_dropped() -> None:
    config = _g6()
    config["api_prefix"] = "/gradio_api/"
    assert parse_config(config).api_prefix == "/gradio_api"


def test_null_prefix_is_no_prefix() -> None:
    config = _g6()
    config["api_prefix"] = None
    assert parse_config(config).api_prefix == ""


def test_missing_id_falls_back_to_position() -> None:
    config = {"dependencies": [{"api_name": "a"}, {"api_name": "infer"}]}
    assert parse_config(config) == SpaceConfig(api_prefix="", fn_index=1, version=None)


@pytest.mark.parametrize(
    "body",
    [
        None,
        "not a config",
        [1, 2, 3],
        42,
        {},
        {"dependencies": "nope"},
        {"api_prefix": 5, "dependencies": []},
        {"dependencies": [{"api_name": "infer", "id": "2"}]},
        {"dependencies": [{"api_name": "infer", "id": True}]},
    ],
)
def test_garbage_is_protocol_error(body: object) -> None:
    with pytest.raises(ProtocolError):
        parse_config(body)


def test_garbage_items_in_dependencies_are_skipped() -> None:
    body = json.loads('{"dependencies": [null, 3, "x", {"id": 7, "api_name": "infer"}]}')
    assert parse_config(body).fn_index == 7
