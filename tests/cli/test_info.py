"""``flux info``: /config + /info parsing on the captured transcripts, the comparison, HTTP."""

from __future__ import annotations

import copy
import json
from typing import cast

import httpx
import pytest
import respx

from flux_sdk import EndpointNotFoundError, FluxConnectionError, GenerateRequest, ProtocolError
from flux_sdk._cli import main
from flux_sdk._cli._info import (
    EXPECTED,
    ExpectedParameter,
    ParameterInfo,
    SpaceApi,
    compare,
    expected_parameters,
    fetch_space_api,
    parse_parameters,
    parse_space_api,
    render_text,
    to_json,
)
from flux_sdk._limits import MAX_SEED, MAX_SIZE, MAX_STEPS, MIN_SIZE, MIN_STEPS, SIZE_STEP
from flux_sdk._spaces import FLUX_DEV, FLUX_SCHNELL, Limit, SpaceDescriptor
from tests.transcripts import load

INFO = {
    4: "gradio4/03-get-info.txt",
    5: "gradio5/04-get-gradio_api-info.txt",
    6: "gradio6/04-get-gradio_api-info.txt",
}
CONFIG = {
    4: "gradio4/01-get-config.txt",
    5: "gradio5/01-get-config.txt",
    6: "gradio6/01-get-config.txt",
}
VERSION = {4: "4.44.1", 5: "5.50.0", 6: "6.31.0"}
PREFIX = {4: "", 5: "/gradio_api", 6: "/gradio_api"}
NAMES = ["prompt", "seed", "randomize_seed", "width", "height", "num_inference_steps"]
BASE = "http://127.0.0.1:7860"

JSONObject = dict[str, object]


def body(name: str) -> JSONObject:
    return cast(JSONObject, json.loads(load(name).body))


def infer_parameters(info: JSONObject) -> list[JSONObject]:
    endpoints = cast(JSONObject, info["named_endpoints"])
    return cast("list[JSONObject]", cast(JSONObject, endpoints["/infer"])["parameters"])


@pytest.mark.parametrize("line", [4, 5, 6])
def test_the_real_transcripts_parse_and_match_the_sdk(line: int) -> None:
    api = parse_space_api(body(CONFIG[line]), body(INFO[line]), url=BASE)
    assert (api.version, api.api_prefix, api.fn_index) == (VERSION[line], PREFIX[line], 2)
    assert api.parameters is not None
    assert [parameter.name for parameter in api.parameters] == NAMES
    limits = {p.name: (p.minimum, p.maximum, p.step) for p in api.parameters}
    assert limits == {
        "prompt": (None, None, None),
        "seed": (0, 2147483647, 1),
        "randomize_seed": (None, None, None),
        "width": (256, 2048, 32),
        "height": (256, 2048, 32),
        "num_inference_steps": (1, 50, 1),
    }
    assert api.parameters[3].component == "Slider"
    assert api.parameters[3].default == 1024
    assert compare(api.parameters) == []


@pytest.mark.parametrize("line", [4, 5, 6])
def test_limits_come_from_info_alone_when_config_is_not_given(line: int) -> None:
    parameters = parse_parameters(body(INFO[line]))
    assert parameters is not None
    assert (parameters[3].minimum, parameters[3].maximum, parameters[3].step) == (256, 2048, None)
    assert compare(parameters) == []


def test_expected_is_the_schnell_payload_with_the_sdk_limits() -> None:
    assert [parameter.name for parameter in EXPECTED] == NAMES
    fields = list(GenerateRequest.model_fields)
    assert [fields.index(name) for name in NAMES] == sorted(fields.index(name) for name in NAMES)
    limits = {p.name: (p.minimum, p.maximum, p.step) for p in EXPECTED}
    assert limits["seed"] == (0, MAX_SEED, 1)
    assert limits["width"] == limits["height"] == (MIN_SIZE, MAX_SIZE, SIZE_STEP)
    assert limits["num_inference_steps"] == (MIN_STEPS, MAX_STEPS, 1)


def test_expected_follows_the_space_descriptor() -> None:
    assert expected_parameters(FLUX_SCHNELL) == EXPECTED
    dev = expected_parameters(FLUX_DEV)
    assert tuple(parameter.name for parameter in dev) == FLUX_DEV.inputs
    guidance = next(parameter for parameter in dev if parameter.name == "guidance_scale")
    assert (guidance.minimum, guidance.maximum, guidance.step) == (1, 15, None)


def test_a_descriptor_limit_narrows_the_sdk_limit() -> None:
    small = SpaceDescriptor(
        name="small",
        url=BASE,
        inputs=FLUX_SCHNELL.inputs,
        limits={"width": Limit(256, 1024, 64)},
    )
    width = expected_parameters(small)[3]
    assert (width.name, width.minimum, width.maximum, width.step) == ("width", 256, 1024, 64)
    mismatches = compare(
        parse_space_api(body(CONFIG[6]), body(INFO[6])).parameters, expected_parameters(small)
    )
    assert [mismatch.parameter for mismatch in mismatches] == ["width", "width"]


def test_a_lower_maximum_is_a_mismatch() -> None:
    info = copy.deepcopy(body(INFO[6]))
    width = infer_parameters(info)[3]
    width["type"] = {"type": "number", "description": "numeric value between 256 and 1024"}
    api = parse_space_api(body(CONFIG[6]), info, url=BASE)
    mismatches = compare(api.parameters)
    assert [mismatch.parameter for mismatch in mismatches] == ["width"]
    message = mismatches[0].message
    assert "width" in message
    assert "256..1024" in message
    assert "256..2048" in message
    assert "MISMATCH" in render_text(api, mismatches)
    report = to_json(api, mismatches)
    assert report["matches_sdk"] is False
    assert report["mismatches"] == [message]


def test_a_different_step_is_a_mismatch() -> None:
    config = copy.deepcopy(body(CONFIG[5]))
    for component in cast("list[JSONObject]", config["components"]):
        if component.get("id") == 12:  # the Height slider
            cast(JSONObject, component["props"])["step"] = 64
    api = parse_space_api(config, body(INFO[5]), url=BASE)
    mismatches = compare(api.parameters)
    assert [mismatch.parameter for mismatch in mismatches] == ["height"]
    assert "step is 64" in mismatches[0].message


def test_renamed_or_reordered_parameters_are_a_mismatch() -> None:
    info = copy.deepcopy(body(INFO[4]))
    parameters = infer_parameters(info)
    parameters[3], parameters[4] = parameters[4], parameters[3]
    mismatches = compare(parse_parameters(info))
    assert len(mismatches) == 1
    assert mismatches[0].parameter is None
    assert "height, width" in mismatches[0].message

    info = copy.deepcopy(body(INFO[4]))
    infer_parameters(info).append({"label": "Guidance", "parameter_name": "guidance"})
    assert "guidance" in compare(parse_parameters(info))[0].message


def test_an_info_without_infer_is_a_mismatch() -> None:
    parameters = parse_parameters({"named_endpoints": {}, "unnamed_endpoints": {}})
    assert parameters is None
    assert "no /infer endpoint" in compare(parameters)[0].message


def test_an_unstated_limit_is_not_a_mismatch() -> None:
    space = [ParameterInfo("prompt"), ParameterInfo("steps")]
    assert compare(space, [ExpectedParameter("prompt"), ExpectedParameter("steps", 1, 50, 1)]) == []


@pytest.mark.parametrize(
    "info",
    [
        [],
        {"unnamed_endpoints": {}},
        {"named_endpoints": {"/infer": {}}},
        {"named_endpoints": {"/infer": {"parameters": ["prompt"]}}},
    ],
)
def test_malformed_info_is_a_protocol_error(info: object) -> None:
    with pytest.raises(ProtocolError):
        parse_parameters(info)


def test_a_config_without_infer_is_endpoint_not_found() -> None:
    with pytest.raises(EndpointNotFoundError):
        parse_space_api({"dependencies": []}, body(INFO[6]))


def test_render_text_shows_the_space() -> None:
    api = parse_space_api(body(CONFIG[4]), body(INFO[4]), url=BASE)
    text = render_text(api, [])
    assert "Gradio      4.44.1" in text
    assert "API prefix  (none)" in text
    assert "fn_index    2 (infer)" in text
    assert "256..2048 step 32" in text
    assert "MISMATCH" not in text
    assert text.endswith("flux-sdk's requests match the Space's infer API")


def test_json_report_uses_integers_for_integral_limits() -> None:
    api = parse_space_api(body(CONFIG[6]), body(INFO[6]), url=BASE)
    report = to_json(api, [])
    assert report["gradio_version"] == "6.31.0"
    assert report["matches_sdk"] is True
    width = cast("list[JSONObject]", report["parameters"])[3]
    assert width == {
        "name": "width",
        "label": "Width",
        "component": "Slider",
        "minimum": 256,
        "maximum": 2048,
        "step": 32,
        "default": 1024,
    }
    assert json.loads(json.dumps(report)) == report


def test_an_api_without_parameters_renders() -> None:
    api = SpaceApi(url=BASE, version=None, api_prefix="", fn_index=2, parameters=None)
    mismatches = compare(None)
    assert "not listed by /info" in render_text(api, mismatches)
    assert to_json(api, mismatches)["parameters"] is None


@respx.mock(assert_all_called=True)
def test_fetch_reads_config_then_the_prefixed_info(respx_mock: respx.MockRouter) -> None:
    config = respx_mock.get(f"{BASE}/config").respond(200, text=load(CONFIG[6]).body)
    info = respx_mock.get(f"{BASE}/gradio_api/info").respond(200, text=load(INFO[6]).body)
    api = fetch_space_api(BASE + "/", token="hf_secret")
    assert api.version == "6.31.0"
    assert api.url == BASE
    assert compare(api.parameters) == []
    for route in (config, info):
        request = route.calls.last.request
        assert request.headers["x-hf-authorization"] == "Bearer hf_secret"
        assert request.headers["x-gradio-user"] == "api"


@respx.mock
def test_fetch_without_a_token_sends_none(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/config").respond(200, text=load(CONFIG[4]).body)
    info = respx_mock.get(f"{BASE}/info").respond(200, text=load(INFO[4]).body)
    assert fetch_space_api(BASE).version == "4.44.1"
    assert "x-hf-authorization" not in info.calls.last.request.headers


@respx.mock
def test_fetch_maps_http_errors(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/config").respond(404, json={"detail": "Not Found"})
    with pytest.raises(EndpointNotFoundError):
        fetch_space_api(BASE)


@respx.mock
def test_fetch_maps_connection_errors(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/config").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(FluxConnectionError):
        fetch_space_api(BASE)


@respx.mock
def test_fetch_rejects_non_json(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/config").respond(200, text="<html>asleep</html>")
    with pytest.raises(ProtocolError):
        fetch_space_api(BASE)


@respx.mock
def test_fetch_caps_the_answer_as_the_sdk_does(respx_mock: respx.MockRouter) -> None:
    # The SDK's own transport reads it: a Space answering without end is cut at the JSON cap.
    endless = b'{"padding": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    respx_mock.get(f"{BASE}/config").respond(200, content=endless)
    with pytest.raises(ProtocolError, match="larger than"):
        fetch_space_api(BASE)


@respx.mock
def test_info_command_exits_3_on_a_mismatch(
    respx_mock: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    info = copy.deepcopy(body(INFO[6]))
    infer_parameters(info)[3]["type"] = {"description": "numeric value between 256 and 1024"}
    respx_mock.get(f"{BASE}/config").respond(200, text=load(CONFIG[6]).body)
    respx_mock.get(f"{BASE}/gradio_api/info").respond(200, json=info)
    assert main(["info", "--url", BASE, "--json"]) == 3
    out, err = capsys.readouterr()
    report = cast(JSONObject, json.loads(out))
    assert report["matches_sdk"] is False
    assert report["mismatches"] == ["width: the Space allows 256..1024, flux-sdk allows 256..2048"]
    assert err == ""


@respx.mock
def test_info_command_off_a_terminal_prints_the_table_and_the_warnings(
    respx_mock: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    info = copy.deepcopy(body(INFO[6]))
    infer_parameters(info)[3]["type"] = {"description": "numeric value between 256 and 1024"}
    respx_mock.get(f"{BASE}/config").respond(200, text=load(CONFIG[6]).body)
    respx_mock.get(f"{BASE}/gradio_api/info").respond(200, json=info)
    assert main(["info", "--url", BASE]) == 3
    out, err = capsys.readouterr()
    assert out.startswith(f"Space       {BASE}\n")
    assert err == "warning: width: the Space allows 256..1024, flux-sdk allows 256..2048\n"


@respx.mock
def test_info_command_exits_0_when_the_space_matches(
    respx_mock: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    respx_mock.get(f"{BASE}/config").respond(200, text=load(CONFIG[5]).body)
    respx_mock.get(f"{BASE}/gradio_api/info").respond(200, text=load(INFO[5]).body)
    assert main(["info", "--url", BASE, "--json"]) == 0
    assert cast(JSONObject, json.loads(capsys.readouterr().out))["gradio_version"] == "5.50.0"
