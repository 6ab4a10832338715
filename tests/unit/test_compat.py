"""flux_sdk.compat without gpt4free: the standalone providers, against a replayed Gradio 6 exchange.

With g4f installed the same names are g4f providers instead, tested by tests/g4f (nox -s g4f).
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.util
import json
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

import flux_sdk
import flux_sdk.compat
from flux_sdk import (
    AsyncFluxClient,
    EndpointNotFoundError,
    FluxError,
    InvalidRequestError,
    JobFailedError,
    QueueFullError,
    QuotaExceededError,
    ResponseError,
)
from flux_sdk.compat import (
    BlackForestLabs_Flux1Dev,
    BlackForestLabs_Flux1Schnell,
    ImageResponse,
    format_image_prompt,
    raise_for_status,
)
from tests.unit._support import requests

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("g4f") is not None,
    reason="g4f is installed: compat's classes are g4f providers (tests/g4f)",
)

BASE = "http://127.0.0.1:7860"
IMAGE_URL = f"{BASE}/gradio_api/file=/tmp/x.webp"
DEFAULT = "black-forest-labs-flux-1-schnell"

CONFIG: dict[str, object] = {
    "version": "6.0.0",
    "api_prefix": "/gradio_api",
    "dependencies": [
        {"id": 0, "api_name": "load_example_input"},
        {"id": 1, "api_name": "load_example"},
        {"id": 2, "api_name": "infer"},
    ],
}


def sse(*messages: dict[str, object]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(message)}\n\n" for message in messages)
    return httpx.Response(
        200, headers={"content-type": "text/event-stream; charset=utf-8"}, text=body
    )


SUCCESS: dict[str, object] = {
    "msg": "process_completed",
    "event_id": "e1",
    "output": {"data": [{"path": "/tmp/x.webp", "url": IMAGE_URL}, 7]},
    "success": True,
}
QUOTA: dict[str, object] = {
    "msg": "process_completed",
    "event_id": "e1",
    "output": {
        "error": "You have exceeded your free GPU quota (60s requested vs. 0s left)."
        " Try again in 0:06:53",
        "title": "ZeroGPU quota exceeded",
    },
    "success": False,
    "title": "ZeroGPU quota exceeded",
}
HIDDEN_ERROR: dict[str, object] = {
    "msg": "process_completed",
    "event_id": "e1",
    "output": {"error": None},
    "success": False,
    "title": "Error",
}


@pytest.fixture
def space(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    """A Gradio 6 Space on 127.0.0.1 that completes every job; routes named for inspection."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/config", name="config").respond(json=CONFIG)
        # Every job is submitted by name; a queue job names our session (§4.1).
        router.post("/gradio_api/call/infer", name="submit").respond(json={"event_id": "e1"})
        router.get("/gradio_api/queue/data", name="data").mock(
            return_value=sse(
                {"msg": "estimation", "event_id": "e1", "rank": 0, "queue_size": 1},
                {"msg": "process_starts", "event_id": "e1"},
                SUCCESS,
                {"msg": "close_stream", "event_id": None},
            )
        )
        router.post("/gradio_api/cancel", name="cancel").respond(json={"success": True})
        yield router


async def generate(**options: Any) -> list[ImageResponse]:
    messages: flux_sdk.compat.Messages = options.pop(
        "messages", [{"role": "user", "content": "a red fox"}]
    )
    options.setdefault("base_url", BASE)
    return [
        image
        async for image in BlackForestLabs_Flux1Schnell.create_async_generator(
            options.pop("model", "flux"), messages, **options
        )
    ]


def submitted_body(router: respx.MockRouter) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(router.routes["submit"].calls.last.request.content)
    return body


def sent(router: respx.MockRouter) -> list[tuple[str, str]]:
    """Every request the Space answered, in order, as (method, path)."""
    return [(request.method, request.url.path) for request in requests(router)]


# -- attributes and models -----------------------------------------------------------------------


def test_attributes_match_the_original_provider() -> None:
    cls = BlackForestLabs_Flux1Schnell
    assert cls.label == "BlackForestLabs Flux-1-Schnell"
    assert cls.url == "https://black-forest-labs-flux-1-schnell.hf.space"
    assert cls.api_endpoint == "https://black-forest-labs-flux-1-schnell.hf.space/call/infer"
    assert cls.working is True
    assert cls.default_model == DEFAULT
    assert cls.default_image_model == DEFAULT
    assert cls.model_aliases == {"flux-schnell": DEFAULT, "flux": DEFAULT}
    assert cls.image_models == [DEFAULT, "flux-schnell", "flux"]
    assert cls.models == cls.image_models


def test_without_g4f_the_classes_stand_alone() -> None:
    for cls in (BlackForestLabs_Flux1Schnell, BlackForestLabs_Flux1Dev):
        assert all(base.__module__.startswith("flux_sdk") for base in cls.__mro__[:-1])
        assert not hasattr(cls, "get_dict")


def test_dev_attributes_match_g4fs_own_provider() -> None:
    cls = BlackForestLabs_Flux1Dev
    dev = "black-forest-labs-flux-1-dev"
    assert cls.label == "BlackForestLabs Flux-1-Dev"
    assert cls.url == "https://black-forest-labs-flux-1-dev.hf.space"
    assert cls.working is True
    assert (cls.default_model, cls.default_image_model) == (dev, dev)
    assert cls.model_aliases == {"flux-dev": dev, "flux": dev}
    assert cls.models == cls.image_models == [dev, "flux-dev", "flux"]
    assert cls.get_model("flux") == dev


@pytest.mark.parametrize("model", ["", "flux", "flux-schnell", DEFAULT])
def test_get_model_resolves_aliases(model: str) -> None:
    assert BlackForestLabs_Flux1Schnell.get_model(model) == DEFAULT
    assert BlackForestLabs_Flux1Schnell.get_model(model, api_key="ignored") == DEFAULT


def test_get_model_rejects_an_unknown_model() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        BlackForestLabs_Flux1Schnell.get_model("flux-dev")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, FluxError)
    assert caught.value.field == "model"
    assert caught.value.value == "flux-dev"
    assert "'flux-schnell'" in caught.value.constraint


# -- generation over the wire --------------------------------------------------------------------


@pytest.mark.anyio
async def test_yields_one_image_with_the_prompt_as_alt(space: respx.MockRouter) -> None:
    images = await generate(
        messages=[{"role": "system", "content": "draw"}, {"role": "user", "content": "a fox"}],
        prompt="in snow",
    )
    assert images == [ImageResponse(images=[IMAGE_URL], alt="draw a fox in snow")]
    assert str(images[0]) == f"[![draw a fox in snow]({IMAGE_URL})]({IMAGE_URL})"
    # A cold client on Gradio 6 submits by name at the guessed prefix: no GET /config first.
    assert sent(space) == [
        ("POST", "/gradio_api/call/infer"),
        ("GET", "/gradio_api/queue/data"),
    ]
    assert not space.routes["config"].called
    assert not space.routes["cancel"].called


@pytest.mark.anyio
async def test_payload_has_the_original_defaults(space: respx.MockRouter) -> None:
    await generate()
    body = submitted_body(space)
    # By name, in our session: no fn_index, which only /cancel needs.
    assert body == {
        "data": ["a red fox", 0, True, 768, 768, 2],
        "session_hash": body["session_hash"],
    }
    assert isinstance(body["session_hash"], str)
    assert body["session_hash"]
    # The stream is read for the session the job was submitted in.
    data_url = urlsplit(str(space.routes["data"].calls.last.request.url))
    assert parse_qs(data_url.query)["session_hash"] == [body["session_hash"]]


@pytest.mark.anyio
async def test_dev_payload_has_its_spaces_defaults(space: respx.MockRouter) -> None:
    images = [
        image
        async for image in BlackForestLabs_Flux1Dev.create_async_generator(
            "flux-dev", ["a red fox"], base_url=BASE
        )
    ]
    assert images == [ImageResponse(images=[IMAGE_URL], alt="a red fox")]
    # FLUX.1-dev's inputs: guidance_scale (3.5) before the steps (28), 1024×1024.
    assert submitted_body(space)["data"] == ["a red fox", 0, True, 1024, 1024, 3.5, 28]
    assert submitted_body(space)["data"] == flux_sdk.FLUX_DEV.data(
        flux_sdk.FLUX_DEV.request("a red fox", {})
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("options", "field"),
    [({"guidance_scale": 20.0}, "guidance_scale"), ({"width": 770}, "width")],
)
async def test_dev_checks_before_any_request(
    space: respx.MockRouter, options: dict[str, Any], field: str
) -> None:
    # No rounding on FLUX.1-dev (g4f's provider had none): 770 is refused as it is.
    with pytest.raises(InvalidRequestError) as caught:
        async for _ in BlackForestLabs_Flux1Dev.create_async_generator(
            "flux-dev", ["a red fox"], base_url=BASE, **options
        ):
            pass
    assert caught.value.field == field
    assert space.calls.call_count == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("width", "height", "sent"),
    [
        (770, 519, (768, 512)),
        (775, 263, (768, 256)),
        (2048, 256, (2048, 256)),
    ],
)
async def test_sizes_are_rounded_down_to_a_multiple_of_8(
    space: respx.MockRouter, width: int, height: int, sent: tuple[int, int]
) -> None:
    await generate(width=width, height=height, num_inference_steps=6, seed=42, randomize_seed=False)
    assert submitted_body(space)["data"] == ["a red fox", 42, False, *sent, 6]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("options", "field", "value"),
    [
        ({"width": 1000}, "width", 1000),  # a multiple of 8, not of 32
        ({"height": 100}, "height", 100),  # below 256
        ({"width": 10}, "width", 10),  # rounds up to 32, still below 256
        ({"height": 4096}, "height", 4096),  # above 2048
        ({"width": 1001}, "width", 1001),  # rounds to 1000
        ({"num_inference_steps": 0}, "num_inference_steps", 0),
        ({"seed": -1, "randomize_seed": False}, "seed", -1),
        ({"messages": [], "prompt": None}, "prompt", ""),
        ({"messages": [{"role": "user", "content": "  "}]}, "prompt", ""),
    ],
)
async def test_invalid_input_raises_before_any_request(
    space: respx.MockRouter, options: dict[str, Any], field: str, value: object
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await generate(**options)
    assert caught.value.field == field
    assert caught.value.value == value
    assert isinstance(caught.value, ValueError)
    assert space.calls.call_count == 0


@pytest.mark.anyio
async def test_a_rounded_size_error_says_what_the_rounding_made(space: respx.MockRouter) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await generate(width=1001)
    assert "multiple of 32" in str(caught.value)
    assert "it is 1000" in str(caught.value)
    assert space.calls.call_count == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("message", "error_type", "text"),
    [
        (QUOTA, QuotaExceededError, "You have exceeded your free GPU quota"),
        (HIDDEN_ERROR, JobFailedError, None),
    ],
)
async def test_an_error_from_the_space_is_a_response_error(
    space: respx.MockRouter,
    message: dict[str, object],
    error_type: type[ResponseError],
    text: str | None,
) -> None:
    space.routes["data"].mock(return_value=sse(message))
    with pytest.raises(flux_sdk.ResponseError) as caught:
        await generate()
    assert type(caught.value) is error_type
    if text is None:
        assert caught.value.message is None
    else:
        assert caught.value.message is not None
        assert caught.value.message.startswith(text)
    if error_type is QuotaExceededError:
        assert caught.value.retry_after == datetime.timedelta(minutes=6, seconds=53)


@pytest.mark.anyio
async def test_an_http_error_from_the_space_is_a_response_error(space: respx.MockRouter) -> None:
    space.routes["submit"].respond(503, json={"detail": "Queue is full."})
    with pytest.raises(ResponseError) as caught:
        await generate()
    assert isinstance(caught.value, QueueFullError)
    assert caught.value.status_code == 503
    assert caught.value.message == "Queue is full."
    assert not space.routes["data"].called
    # A full queue says nothing about the route: no rediscovery.
    assert not space.routes["config"].called


@pytest.mark.anyio
async def test_a_gradio_4_space_is_found_without_the_prefix(space: respx.MockRouter) -> None:
    space.routes["config"].respond(json={**CONFIG, "api_prefix": None, "version": "4.44.1"})
    # Gradio 4 has no route under Gradio 5's prefix, the one a cold client guesses.
    space.routes["submit"].respond(404, json={"detail": "Not Found"})
    submit = space.post("/call/infer").respond(json={"event_id": "e1"})
    data = space.get("/queue/data").mock(return_value=sse(SUCCESS))
    images = await generate()
    assert images[0].images == [IMAGE_URL]
    # The 404 makes the one rediscovery: /config says "no prefix", the job goes there.
    assert sent(space) == [
        ("POST", "/gradio_api/call/infer"),
        ("GET", "/config"),
        ("POST", "/call/infer"),
        ("GET", "/queue/data"),
    ]
    body = json.loads(submit.calls.last.request.content)
    assert body == {
        "data": ["a red fox", 0, True, 768, 768, 2],
        "session_hash": body["session_hash"],
    }
    assert data.calls.last.request.url.params["session_hash"] == body["session_hash"]


@pytest.mark.anyio
async def test_api_key_is_sent_as_the_hf_token(space: respx.MockRouter) -> None:
    await generate(api_key="hf_secret")
    request = space.routes["submit"].calls.last.request
    assert request.headers["x-hf-authorization"] == "Bearer hf_secret"


@pytest.mark.anyio
async def test_token_keyword_works_too(space: respx.MockRouter) -> None:
    await generate(token="hf_other")
    request = space.routes["submit"].calls.last.request
    assert request.headers["x-hf-authorization"] == "Bearer hf_other"


@pytest.mark.anyio
async def test_no_token_sends_none(space: respx.MockRouter) -> None:
    await generate(api_key=None)
    assert "x-hf-authorization" not in space.routes["submit"].calls.last.request.headers


@pytest.mark.anyio
async def test_unknown_keywords_are_ignored(space: respx.MockRouter) -> None:
    images = await generate(model="anything", stream=True, timeout=5, cookies={"a": "b"})
    assert len(images) == 1


@pytest.mark.anyio
async def test_a_non_string_base_url_is_refused(space: respx.MockRouter) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await generate(base_url=7860)
    assert caught.value.field == "base_url"
    assert space.calls.call_count == 0


@pytest.mark.anyio
async def test_a_subclass_can_point_url_elsewhere(space: respx.MockRouter) -> None:
    class Local(BlackForestLabs_Flux1Schnell):
        url = BASE

    images = [
        image async for image in Local.create_async_generator("flux", ["a fox"], prompt="at dusk")
    ]
    assert images == [ImageResponse(images=[IMAGE_URL], alt="a fox at dusk")]


class _Recording(AsyncFluxClient):
    made: ClassVar[list[_Recording]] = []

    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(base_url, **options)
        self.options = options
        self.closed = False
        _Recording.made.append(self)

    async def close(self) -> None:
        self.closed = True
        await super().close()


@pytest.mark.anyio
async def test_client_options_and_closed_before_the_yield(
    space: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    _Recording.made.clear()
    monkeypatch.setattr(flux_sdk.compat, "AsyncFluxClient", _Recording)
    closed_at_yield: list[bool] = []
    async for _ in BlackForestLabs_Flux1Schnell.create_async_generator(
        "flux", ["a fox"], proxy="http://127.0.0.1:3128", base_url=BASE, api_key="hf_x"
    ):
        closed_at_yield.extend(client.closed for client in _Recording.made)
    assert closed_at_yield == [True]
    [client] = _Recording.made
    assert client.base_url == BASE
    assert client.protocol == "auto"
    assert client.options["proxy"] == "http://127.0.0.1:3128"
    assert client.options["token"] == "hf_x"


# -- ImageResponse and format_image_prompt -------------------------------------------------------


def test_image_response_markdown() -> None:
    response = ImageResponse(images=["https://x/a.webp", "https://x/b (1).webp"], alt="a [fox]\nb")
    assert response.options == {}
    assert str(response).splitlines() == [
        r"[![a \[fox\] b](https://x/a.webp)](https://x/a.webp)",
        r"[![a \[fox\] b](https://x/b%20%281%29.webp)](https://x/b%20%281%29.webp)",
    ]


def test_image_response_is_frozen() -> None:
    response = ImageResponse(images=["u"], alt="a", options={"seed": 7})
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.alt = "b"  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    assert response.options == {"seed": 7}


@pytest.mark.parametrize(
    ("messages", "prompt", "expected"),
    [
        ([{"role": "user", "content": "a fox"}], "in snow", "a fox in snow"),
        (["a", "b"], None, "a b"),
        ([{"role": "user", "content": "a fox"}], None, "a fox"),
        ([], "only the prompt", "only the prompt"),
        (["  a  ", "", {"role": "user"}, {"role": "user", "content": " b"}], " c ", "a b c"),
        ("a whole string", None, "a whole string"),
        (
            [{"role": "user", "content": [{"type": "text", "text": "a fox"}, {"type": "image"}]}],
            "",
            "a fox",
        ),
        ([], None, ""),
    ],
)
def test_format_image_prompt(
    messages: flux_sdk.compat.Messages, prompt: str | None, expected: str
) -> None:
    assert format_image_prompt(messages, prompt) == expected


# -- raise_for_status ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204])
def test_raise_for_status_passes_success(status: int) -> None:
    raise_for_status(httpx.Response(status))


def test_raise_for_status_404_json() -> None:
    with pytest.raises(EndpointNotFoundError) as caught:
        raise_for_status(httpx.Response(404, json={"detail": "Not Found"}))
    assert caught.value.status_code == 404
    assert caught.value.message == "Not Found"
    assert caught.value.payload == {"detail": "Not Found"}


def test_raise_for_status_503_json_detail() -> None:
    response = httpx.Response(503, json={"detail": "Queue is full."}, headers={"retry-after": "30"})
    with pytest.raises(QueueFullError) as caught:
        raise_for_status(response)
    assert caught.value.message == "Queue is full."
    assert caught.value.retry_after == datetime.timedelta(seconds=30)
    assert isinstance(caught.value, ResponseError)


def test_raise_for_status_500_html_page() -> None:
    page = (
        "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
        "<body><h1>Internal Server Error</h1></body></html>"
    )
    response = httpx.Response(500, text=page, headers={"content-type": "text/html"})
    with pytest.raises(ResponseError) as caught:
        raise_for_status(response)
    assert type(caught.value) is ResponseError
    assert caught.value.status_code == 500
    assert caught.value.message == "500 Internal Server Error"
    assert str(caught.value) == "HTTP 500: 500 Internal Server Error"


def test_raise_for_status_needs_a_read_body() -> None:
    response = httpx.Response(500, stream=httpx.ByteStream(b"oops"))
    with pytest.raises(httpx.ResponseNotRead):
        raise_for_status(response)
    response.read()
    with pytest.raises(ResponseError, match="oops"):
        raise_for_status(response)
