"""Space descriptors, Preview events, pools with failover, and generate_many (respx)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from flux_sdk import (
    FLUX_DEV,
    FLUX_SCHNELL,
    AsyncFluxClient,
    Completed,
    DownloadError,
    EndpointNotFoundError,
    Event,
    FluxClient,
    GenerateRequest,
    Generation,
    InvalidRequestError,
    JobFailedError,
    Limit,
    Log,
    Preview,
    QueueFullError,
    QuotaExceededError,
    ResponseError,
    SpaceDescriptor,
)
from flux_sdk._protocol import decode_call, decode_queue
from tests.unit._support import job, requests

pytestmark = pytest.mark.anyio

A = "http://127.0.0.1:7861"
B = "http://127.0.0.1:7862"
CONFIG = {"api_prefix": "/gradio_api", "dependencies": [{"id": 2, "api_name": "infer"}]}
SSE = {"content-type": "text/event-stream; charset=utf-8"}


def _image(base: str, name: str = "x") -> dict[str, object]:
    return {"path": f"/tmp/{name}.webp", "url": f"{base}/gradio_api/file=/tmp/{name}.webp"}


def _completed(base: str, event_id: str, seed: int = 7) -> str:
    message = {
        "msg": "process_completed",
        "event_id": event_id,
        "output": {"data": [_image(base), seed]},
        "success": True,
    }
    return f"data: {json.dumps(message)}\n\ndata: {json.dumps({'msg': 'close_stream'})}\n\n"


def _quota(event_id: str, retry: str = "0:06:53") -> str:
    message = {
        "msg": "process_completed",
        "event_id": event_id,
        "output": {"error": f"You have exceeded your free ZeroGPU quota. Try again in {retry}."},
        "success": False,
        "title": "ZeroGPU quota exceeded",
    }
    return f"data: {json.dumps(message)}\n\n"


def _mount(router: respx.MockRouter, base: str, data: str, event_id: str = "e1") -> respx.Route:
    """A Gradio 6 Space at ``base``; returns its submission route (by name, §4.1)."""
    router.get(f"{base}/config").respond(json=CONFIG)
    submit = router.post(f"{base}/gradio_api/call/infer").respond(json={"event_id": event_id})
    router.get(f"{base}/gradio_api/queue/data").respond(200, headers=SSE, text=data)
    router.post(f"{base}/gradio_api/cancel").respond(json={"success": True})
    return submit


# -- descriptors --------------------------------------------------------------------------------


def test_schnell_sends_six_values_in_the_spaces_order() -> None:
    request = FLUX_SCHNELL.request("a fox", {"width": 512})
    assert FLUX_SCHNELL.data(request) == ["a fox", 0, True, 512, 1024, 4]


def test_dev_takes_guidance_before_steps_with_its_own_defaults() -> None:
    request = FLUX_DEV.request("a fox", {"seed": 3, "randomize_seed": False})
    assert FLUX_DEV.data(request) == ["a fox", 3, False, 1024, 1024, 3.5, 28]


def test_dev_fills_guidance_for_a_request_built_elsewhere() -> None:
    assert FLUX_DEV.data(GenerateRequest(prompt="x"))[5] == 3.5


def test_schnell_refuses_guidance_before_any_io() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        FLUX_SCHNELL.request("a fox", {"guidance_scale": 3.5})
    assert caught.value.field == "guidance_scale"


@pytest.mark.parametrize("descriptor", [FLUX_SCHNELL, FLUX_DEV], ids=["schnell", "dev"])
def test_descriptors_refuse_a_whitespace_only_prompt(descriptor: SpaceDescriptor) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        descriptor.request("   ", {})
    assert caught.value.field == "prompt"


def test_a_users_descriptor_narrows_limits() -> None:
    small = SpaceDescriptor(
        name="small",
        url="http://127.0.0.1:9",
        inputs=FLUX_SCHNELL.inputs,
        defaults={"width": 512, "height": 512},
        limits={"width": Limit(256, 768, 64)},
    )
    assert small.request("x", {}).width == 512
    with pytest.raises(InvalidRequestError) as caught:
        small.request("x", {"width": 1024})
    assert caught.value.constraint == "a multiple of 64 from 256 to 768"


def test_descriptor_inputs_must_start_with_prompt() -> None:
    with pytest.raises(ValueError, match="prompt"):
        SpaceDescriptor(name="bad", url=A, inputs=("seed", "prompt"))


def test_unknown_space_alias_is_invalid() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        AsyncFluxClient(space="flux-pro")
    assert "flux-dev" in caught.value.constraint


# -- previews -----------------------------------------------------------------------------------


def test_process_generating_is_a_preview() -> None:
    message = {"msg": "process_generating", "event_id": "e1", "output": {"data": [_image(A), 1]}}
    step = decode_queue(json.dumps(message), job("e1", base=A))
    assert step == Preview(url=f"{A}/gradio_api/file=/tmp/x.webp", path="/tmp/x.webp")


def test_call_generating_is_a_preview() -> None:
    step = decode_call("generating", json.dumps([_image(A), 1]), job("e1", base=A))
    assert isinstance(step, Preview)
    assert step.path == "/tmp/x.webp"


def test_generating_without_an_image_is_skipped() -> None:
    message = {"msg": "process_generating", "event_id": "e1", "output": {"data": [None, 1]}}
    assert decode_queue(json.dumps(message), job("e1", base=A)) is None


async def test_dev_stream_yields_previews_then_the_image() -> None:
    preview = {"msg": "process_generating", "event_id": "e1", "output": {"data": [_image(A), 1]}}
    data = f"data: {json.dumps(preview)}\n\n" + _completed(A, "e1")
    with respx.mock(assert_all_called=False) as router:
        submit = _mount(router, A, data)
        async with (
            AsyncFluxClient(A, space="flux-dev") as client,
            client.stream("a fox", guidance_scale=2.0) as stream,
        ):
            events: list[Event] = [event async for event in stream]
    assert [type(event) for event in events] == [Preview, Completed]
    body = json.loads(submit.calls.last.request.content)
    assert body == {
        "data": ["a fox", 0, True, 1024, 1024, 2.0, 28],
        "session_hash": body["session_hash"],
    }


# -- pools --------------------------------------------------------------------------------------


async def test_pool_moves_a_quota_refused_job_to_the_next_space_and_rests_the_first() -> None:
    with respx.mock(assert_all_called=False) as router:
        first = _mount(router, A, _quota("e1"))
        second = _mount(router, B, _completed(B, "e1"))
        async with AsyncFluxClient([A, B]) as client:
            async with client.stream("a fox") as stream:
                events = [event async for event in stream]
            again = await client.generate("another fox")
    logs = [event for event in events if isinstance(event, Log)]
    assert len(logs) == 1
    assert "moving the job to the next Space" in logs[0].message
    final = events[-1]
    assert isinstance(final, Completed)
    assert final.generation.space == B
    assert again.space == B
    # The first Space rests (retry_after 6:53): the second job went straight to B.
    assert first.call_count == 1
    assert second.call_count == 2


async def test_pool_moves_on_when_a_space_is_unreachable() -> None:
    with respx.mock(assert_all_called=False) as router:
        unreachable = router.post(f"{A}/gradio_api/call/infer").mock(
            side_effect=httpx.ConnectError("refused")
        )
        a_config = router.get(f"{A}/config").respond(json=CONFIG)
        _mount(router, B, _completed(B, "e1"))
        async with AsyncFluxClient([A, B], max_retries=0) as client:
            image = await client.generate("a fox")
    assert image.space == B
    assert unreachable.call_count == 1
    # Unreachable is not a wrong route: nothing to rediscover.
    assert not a_config.called


async def test_pool_does_not_move_an_app_failure() -> None:
    failed = {
        "msg": "process_completed",
        "event_id": "e1",
        "output": {"error": "bad prompt"},
        "success": False,
    }
    with respx.mock(assert_all_called=False) as router:
        _mount(router, A, f"data: {json.dumps(failed)}\n\n")
        second = _mount(router, B, _completed(B, "e1"))
        async with AsyncFluxClient([A, B]) as client:
            with pytest.raises(JobFailedError):
                await client.generate("a fox")
    assert second.call_count == 0


async def test_pool_where_every_space_is_out_of_quota_raises_quota() -> None:
    with respx.mock(assert_all_called=False) as router:
        _mount(router, A, _quota("e1"))
        _mount(router, B, _quota("e1", retry="0:01:00"))
        async with AsyncFluxClient([A, B]) as client:
            with pytest.raises(QuotaExceededError) as caught:
                await client.generate("a fox")
    assert caught.value.retry_after is not None
    assert caught.value.retry_after.total_seconds() == 60


async def test_every_refusal_names_the_space_that_answered() -> None:
    with respx.mock(assert_all_called=False) as router:
        _mount(router, A, _quota("e1"))
        router.get(f"{B}/config").respond(json=CONFIG)
        router.post(f"{B}/gradio_api/call/infer").respond(503, text="Queue is full")
        async with AsyncFluxClient([A, B], max_retries=0) as client:
            with pytest.raises(QueueFullError) as caught:
                await client.generate("a fox")
    assert caught.value.space_url == B


async def test_a_quota_refusal_names_its_space() -> None:
    with respx.mock(assert_all_called=False) as router:
        _mount(router, A, _quota("e1"))
        async with AsyncFluxClient([A]) as client:
            with pytest.raises(QuotaExceededError) as caught:
                await client.generate("a fox")
    assert caught.value.space_url == A


async def test_an_app_failure_names_its_space() -> None:
    failed = {
        "msg": "process_completed",
        "event_id": "e1",
        "output": {"error": "x"},
        "success": False,
    }
    with respx.mock(assert_all_called=False) as router:
        _mount(router, B, f"data: {json.dumps(failed)}\n\n")
        async with AsyncFluxClient(B) as client:
            with pytest.raises(JobFailedError) as caught:
                await client.generate("a fox")
    assert caught.value.space_url == B


async def test_a_failed_download_names_the_space_that_made_the_image() -> None:
    with respx.mock(assert_all_called=False) as router:
        _mount(router, A, _completed(A, "e1"))
        router.get(f"{A}/gradio_api/file=/tmp/x.webp").respond(404, json={"detail": "gone"})
        async with AsyncFluxClient(A) as client:
            image = await client.generate("a fox")
            with pytest.raises(DownloadError) as caught:
                await client.download(image)
    assert caught.value.space_url == A


async def test_token_goes_to_every_space_of_the_pool_and_nowhere_else() -> None:
    with respx.mock(assert_all_called=False) as router:
        first = _mount(router, A, _quota("e1"))
        second = _mount(router, B, _completed(B, "e1"))
        other = router.get("http://127.0.0.2:9/x.webp").respond(content=b"img")
        async with AsyncFluxClient([A, B], token="hf_pool_secret") as client:
            image = await client.generate("a fox")
            await client.download(image.model_copy(update={"url": "http://127.0.0.2:9/x.webp"}))
        sent = [first.calls.last.request, second.calls.last.request]
        leaked = other.calls.last.request
    assert [r.headers["x-hf-authorization"] for r in sent] == ["Bearer hf_pool_secret"] * 2
    assert "x-hf-authorization" not in leaked.headers


# -- discovery, per Space ------------------------------------------------------------------------

NO_INFER = {"api_prefix": "/gradio_api", "dependencies": [{"id": 0, "api_name": "load_example"}]}


def _sent(router: respx.MockRouter) -> list[tuple[str, str]]:
    return [(request.method, str(request.url)) for request in requests(router)]


async def test_a_500_before_the_space_is_known_reads_config_which_names_the_missing_endpoint() -> (
    None
):
    with respx.mock(assert_all_called=False) as router:
        # How Gradio answers a /call/ name it does not know: an uncaught error, HTTP 500.
        submit = router.post(f"{A}/gradio_api/call/infer").respond(
            500, text="Internal Server Error"
        )
        router.get(f"{A}/config").respond(json=NO_INFER)
        async with AsyncFluxClient(A) as client:
            with pytest.raises(EndpointNotFoundError) as caught:
                await client.generate("a fox")
        assert _sent(router) == [("POST", f"{A}/gradio_api/call/infer"), ("GET", f"{A}/config")]
    assert "'infer'" in str(caught.value)
    assert caught.value.space_url == A
    assert submit.call_count == 1


async def test_a_500_before_the_space_is_known_rediscovers_once_only() -> None:
    with respx.mock(assert_all_called=False) as router:
        submit = router.post(f"{A}/gradio_api/call/infer").respond(
            500, text="Internal Server Error"
        )
        config = router.get(f"{A}/config").respond(json=CONFIG)
        async with AsyncFluxClient(A) as client:
            with pytest.raises(ResponseError) as caught:
                await client.generate("a fox")
    # /config has infer at the prefix guessed: the second 500 is the Space's own, and raised.
    assert (type(caught.value), caught.value.status_code) == (ResponseError, 500)
    assert (submit.call_count, config.call_count) == (2, 1)


async def test_a_500_after_the_space_took_a_job_is_not_rediscovered() -> None:
    with respx.mock(assert_all_called=False) as router:
        submit = _mount(router, A, _completed(A, "e1"))
        async with AsyncFluxClient(A) as client:
            await client.generate("a fox")
            submit.respond(500, text="Internal Server Error")
            with pytest.raises(ResponseError) as caught:
                await client.generate("a fox")
        sent = _sent(router)
    assert (type(caught.value), caught.value.status_code) == (ResponseError, 500)
    assert caught.value.space_url == A
    # The prefix is known (a job was taken there): the 500 is the Space's, not a wrong route.
    assert submit.call_count == 2
    assert [url for _, url in sent if url.endswith("/call/infer")] == [
        f"{A}/gradio_api/call/infer"
    ] * 2
    assert f"{A}/config" not in [url for _, url in sent]


async def test_each_space_of_a_pool_is_known_on_its_own() -> None:
    with respx.mock(assert_all_called=False) as router:
        _mount(router, A, _quota("e1"))
        second = _mount(router, B, _completed(B, "e1"))
        async with AsyncFluxClient([A, B]) as client:
            await client.generate("a fox")  # A refuses (quota, and rests), B takes it
            second.respond(500, text="Internal Server Error")
            with pytest.raises(ResponseError) as caught:
                await client.generate("a fox")
        sent = _sent(router)
    # B took a job: its 500 is its own. Neither Space's /config was read.
    assert (caught.value.status_code, caught.value.space_url) == (500, B)
    assert [url for _, url in sent if url.endswith("/call/infer")] == [
        f"{A}/gradio_api/call/infer",
        f"{B}/gradio_api/call/infer",
        f"{B}/gradio_api/call/infer",
    ]
    assert [url for _, url in sent if url.endswith("/config")] == []


# -- batches ------------------------------------------------------------------------------------


def _per_prompt(router: respx.MockRouter) -> None:
    """A Space whose result seed is the prompt's number, and "fail" prompts fail."""
    router.get(f"{A}/config").respond(json=CONFIG)
    sessions: dict[str, str] = {}

    def submit(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sessions[body["session_hash"]] = body["data"][0]
        return httpx.Response(200, json={"event_id": body["session_hash"]})

    def data(request: httpx.Request) -> httpx.Response:
        session = request.url.params["session_hash"]
        prompt = sessions[session]
        if prompt.startswith("fail"):
            failed = {
                "msg": "process_completed",
                "event_id": session,
                "output": {"error": prompt},
                "success": False,
            }
            return httpx.Response(200, headers=SSE, text=f"data: {json.dumps(failed)}\n\n")
        return httpx.Response(200, headers=SSE, text=_completed(A, session, int(prompt)))

    router.post(f"{A}/gradio_api/call/infer").mock(side_effect=submit)
    router.get(f"{A}/gradio_api/queue/data").mock(side_effect=data)


async def test_generate_many_keeps_order_and_each_failure() -> None:
    seen: list[tuple[int, int]] = []
    prompts: list[str | GenerateRequest] = ["1", "fail two", "3", "", GenerateRequest(prompt="5")]
    with respx.mock(assert_all_called=False) as router:
        _per_prompt(router)
        async with AsyncFluxClient(A) as client:
            results = await client.generate_many(
                prompts, concurrency=2, progress=lambda done, total: seen.append((done, total))
            )
    kinds = [type(result) for result in results]
    assert kinds == [Generation, JobFailedError, Generation, InvalidRequestError, Generation]
    seeds = [result.seed for result in results if isinstance(result, Generation)]
    assert seeds == [1, 3, 5]
    # The invalid one is never sent, and counted as done from the start.
    assert [total for _, total in seen] == [5, 5, 5, 5]
    assert [done for done, _ in seen] == [2, 3, 4, 5]


def test_sync_generate_many() -> None:
    with respx.mock(assert_all_called=False) as router:
        _per_prompt(router)
        with FluxClient(A) as client:
            results = client.generate_many(["1", "2"], concurrency=1)
    assert [r.seed for r in results if isinstance(r, Generation)] == [1, 2]


@pytest.mark.parametrize("concurrency", [0, -1, 1.5])
def test_generate_many_needs_a_positive_concurrency(concurrency: int) -> None:
    client = FluxClient(A)
    try:
        with pytest.raises(ValueError, match="concurrency"):
            client.generate_many(["x"], concurrency=concurrency)
    finally:
        client.close()
