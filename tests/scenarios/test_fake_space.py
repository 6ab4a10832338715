"""`flux_sdk.testing` on its own: the scripting API, recording, both clients, the fixture and
the documentation's examples. No Gradio server needed."""

from __future__ import annotations

import dataclasses
import datetime
import doctest
import importlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import cast

import anyio
import httpx
import pytest
from anyio.abc import TaskStatus

from flux_sdk import (
    FLUX_DEV,
    AsyncFluxClient,
    Completed,
    Event,
    FluxClient,
    FluxConnectionError,
    FluxTimeoutError,
    Generation,
    GPUUnavailableError,
    JobFailedError,
    Log,
    Preview,
    Progress,
    ProtocolName,
    Queued,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    Started,
)
from flux_sdk import _limits as limits
from flux_sdk.testing import Fail, FakePool, FakeSpace, Notice, Result
from tests._servers import SERVERS

from .scenarios import MAX_SEED, PROTOCOLS, WEBP, Observer

pytestmark = pytest.mark.anyio

VERSIONS = ["4.44.1", "5.50.0", "6.31.0"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


@pytest.fixture(params=VERSIONS)
def space(request: pytest.FixtureRequest) -> FakeSpace:
    return FakeSpace(gradio=str(request.param))


def client_for(
    space: FakeSpace, *, protocol: ProtocolName = "auto", retries: int = 0
) -> AsyncFluxClient:
    return AsyncFluxClient(space.url, http_transport=space, protocol=protocol, max_retries=retries)


async def events_of(space: FakeSpace, prompt: str = "a fox", **params: int | bool) -> list[Event]:
    async with (
        client_for(space) as client,
        client.stream(
            prompt,
            num_inference_steps=int(params.get("steps", 4)),
            seed=int(params.get("seed", 0)),
            randomize_seed=bool(params.get("randomize_seed", True)),
        ) as stream,
    ):
        return [event async for event in stream]


# -- the default job -------------------------------------------------------------------------------


async def test_a_job_queues_starts_progresses_and_completes(space: FakeSpace) -> None:
    events = await events_of(space, steps=3)
    assert [type(event) for event in events] == [
        Queued,
        Started,
        Progress,
        Progress,
        Progress,
        Completed,
    ]
    assert [event.step for event in events if isinstance(event, Progress)] == [0, 1, 2]
    assert {event.total for event in events if isinstance(event, Progress)} == {3}
    final = events[-1]
    assert isinstance(final, Completed)
    assert 0 <= final.generation.seed <= MAX_SEED
    assert final.generation.url == f"{space.url}{space.api_prefix}/file={final.generation.path}"
    assert space.jobs[0].status == "completed"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_seed_is_the_requested_one_or_the_scripted_one(
    space: FakeSpace, protocol: ProtocolName
) -> None:
    space.respond(Result(seed=42))
    async with client_for(space, protocol=protocol) as client:
        scripted = await client.generate("a fox", seed=5, randomize_seed=False)
        requested = await client.generate("a fox", seed=5, randomize_seed=False)
    assert (scripted.seed, requested.seed) == (42, 5)


async def test_images_are_webp_and_depend_on_prompt_and_seed(space: FakeSpace) -> None:
    async with client_for(space) as client:
        images = [
            await client.generate(prompt, seed=seed, randomize_seed=False, width=768, height=512)
            for prompt, seed in [("a fox", 1), ("a fox", 1), ("a fox", 2), ("a cat", 1)]
        ]
        data = [await client.download(image) for image in images]
    assert all(blob[:4] == WEBP[0] and blob[8:12] == WEBP[1] for blob in data)
    assert data[0] == data[1]
    assert len({data[0], data[2], data[3]}) == 3


@pytest.mark.skipif(not SERVERS, reason="needs an interpreter with Pillow (FLUX_TEST_GRADIO)")
async def test_images_decode_with_pillow_at_the_requested_size(tmp_path: Path) -> None:
    space = FakeSpace()
    async with client_for(space) as client:
        image = await client.generate("a fox", width=768, height=512)
        (tmp_path / "image.webp").write_bytes(await client.download(image))
    script = (
        "import sys; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); "
        "print(im.format, im.size, len(set(im.getdata())))"
    )
    python = next(iter(SERVERS.values()))
    result = await anyio.run_process([python, "-c", script, str(tmp_path / "image.webp")])
    assert result.stdout.decode().split(maxsplit=1) == ["WEBP", "(768, 512) 1\n"]


# -- scripted jobs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_scripted_failures_raise_what_the_space_would(
    space: FakeSpace, protocol: ProtocolName
) -> None:
    space.respond(
        Fail.error("the model is on fire"),
        Fail.quota(retry_after=datetime.timedelta(minutes=1, seconds=2)),
        Fail.gpu(),
        Fail.crash(),
    )
    caught: list[Exception] = []
    async with client_for(space, protocol=protocol) as client:
        for _ in range(4):
            with pytest.raises(Exception) as error:  # noqa: PT011 (checked below)
                await client.generate("a fox")
            caught.append(error.value)
    texts = protocol == "queue" or space.gradio == "6.31.0"
    if texts:
        assert [type(error) for error in caught] == [
            JobFailedError,
            QuotaExceededError,
            GPUUnavailableError,
            JobFailedError,
        ]
        quota = caught[1]
        assert isinstance(quota, QuotaExceededError)
        assert quota.retry_after == datetime.timedelta(minutes=1, seconds=2)
        failed = caught[0]
        assert isinstance(failed, JobFailedError)
        assert failed.message == "the model is on fire"
    else:
        # Gradio before 6.13 sends null for every /call/ error.
        assert all(isinstance(error, JobFailedError) for error in caught)
        assert all(getattr(error, "message", "") is None for error in caught)
    assert [job.status for job in space.jobs] == ["failed"] * 4


async def test_error_titles_arrive_from_gradio_5_on(space: FakeSpace) -> None:
    space.respond(Fail.error("GPU task aborted", title="ZeroGPU worker error"))
    async with client_for(space) as client:
        with pytest.raises(GPUUnavailableError) as caught:
            await client.generate("a fox")
    expected = None if space.gradio.startswith("4.") else "ZeroGPU worker error"
    assert caught.value.title == expected


async def test_queue_ahead_counts_the_rank_down(space: FakeSpace) -> None:
    space.queue_ahead(2)
    events = await events_of(space, steps=1)
    queued = [event for event in events if isinstance(event, Queued)]
    assert [(event.rank, event.queue_size) for event in queued] == [(2, 3), (1, 2), (0, 1)]
    assert isinstance(events[len(queued)], Started)


async def test_notices_and_steps(space: FakeSpace) -> None:
    space.respond(
        Result(),
        steps=2,
        notices=[
            Notice.info("Waiting for a GPU to become available", title="ZeroGPU queue"),
            Notice.warning("Falling back to IP-based quotas"),
        ],
    )
    events = await events_of(space, steps=9)
    logs = [(event.level, event.message, event.title) for event in events if isinstance(event, Log)]
    titled = not space.gradio.startswith("4.")
    assert logs == [
        ("info", "Waiting for a GPU to become available", "ZeroGPU queue" if titled else None),
        ("warning", "Falling back to IP-based quotas", "Warning" if titled else None),
    ]
    assert [event.total for event in events if isinstance(event, Progress)] == [2, 2]


async def test_submission_failures(space: FakeSpace) -> None:
    space.respond(Fail.queue_full(), Fail.rate_limited(retry_after=30), Fail.unreachable())
    async with client_for(space) as client:
        with pytest.raises(QueueFullError) as full:
            await client.generate("a fox")
        with pytest.raises(RateLimitError) as limited:
            await client.generate("a fox")
        with pytest.raises(FluxConnectionError):
            await client.generate("a fox")
    assert full.value.status_code == 503
    assert full.value.message == "Queue is full. Max size is 1 and size is 1."
    assert limited.value.retry_after == datetime.timedelta(seconds=30)
    assert space.jobs == []


async def test_a_retried_submission_takes_the_next_script(space: FakeSpace) -> None:
    space.respond(Fail.rate_limited(retry_after=0), Result(seed=9))
    async with client_for(space, retries=1) as client:
        image = await client.generate("a fox")
    # At the Space's own prefix: on Gradio 4 the guess at /gradio_api is answered 404 before
    # any script is taken, then /config gives the prefix "" (and the job goes to /call/infer).
    submissions = [
        request
        for request in space.requests
        if (request.method, request.path) == ("POST", f"{space.api_prefix}/call/infer")
    ]
    assert (image.seed, len(submissions), len(space.jobs)) == (9, 2, 1)


async def test_max_size_fills_up() -> None:
    space = FakeSpace(max_size=1)
    space.queue_ahead(1)
    async with client_for(space) as client:
        with pytest.raises(QueueFullError) as caught:
            await client.generate("a fox")
    assert caught.value.message == "Queue is full. Max size is 1 and size is 1."


async def test_concurrency() -> None:
    space = FakeSpace(concurrency=2)
    space.queue_ahead(1)  # two busy workers, one job waiting
    events = await events_of(space, steps=1)
    assert [event.rank for event in events if isinstance(event, Queued)] == [1, 0]

    unlimited = FakeSpace(concurrency=None)
    ranks: list[int | None] = []
    async with anyio.create_task_group() as group:
        for _ in range(3):

            async def one() -> None:
                events = await events_of(unlimited, steps=2)
                ranks.extend(event.rank for event in events if isinstance(event, Queued))

            group.start_soon(one)
    assert ranks == [0, 0, 0]


async def test_fault_tags_only_with_faults_on() -> None:
    plain, faulty = FakeSpace(), FakeSpace(faults=True)
    async with client_for(plain) as client:
        assert (await client.generate("[error] not a fault")).seed >= 0
    async with client_for(faulty) as client:
        with pytest.raises(JobFailedError) as caught:
            await client.generate("[error] a fault")
    assert caught.value.message == "a fault"


@pytest.mark.parametrize(
    ("prompt", "kind", "message"),
    [
        ("[error]", JobFailedError, "Simulated error"),
        ("[error] it broke", JobFailedError, "it broke"),
        ("[quota] x", QuotaExceededError, "You have exceeded your free ZeroGPU quota"),
        ("[gpu] x", GPUUnavailableError, "No GPU was available after 60s."),
        ("[crash] x", JobFailedError, None),
    ],
)
async def test_fault_tags(prompt: str, kind: type[ResponseError], message: str | None) -> None:
    space = FakeSpace(faults=True)
    async with client_for(space) as client:
        with pytest.raises(kind) as caught:
            await client.generate(prompt)
    if message is None:
        assert caught.value.message is None
    else:
        assert (caught.value.message or "").startswith(message)
    events = await events_of(space, "[info] x", steps=1)
    assert [event.level for event in events if isinstance(event, Log)] == ["info", "warning"]


# -- recording -------------------------------------------------------------------------------------


async def test_requests_and_jobs_are_recorded(space: FakeSpace) -> None:
    async with AsyncFluxClient(space.url, http_transport=space, token="hf_test") as client:
        await client.generate(
            "a fox", seed=7, randomize_seed=False, width=768, height=512, num_inference_steps=2
        )
    prefix = space.api_prefix
    # Submitted by name with no GET /config first; Gradio 4 answers the guessed /gradio_api
    # with 404, and only then is /config read (prefix "") and the job submitted again.
    guess = (
        [] if prefix == "/gradio_api" else [("POST", "/gradio_api/call/infer"), ("GET", "/config")]
    )
    assert [(request.method, request.path) for request in space.requests] == [
        *guess,
        ("POST", f"{prefix}/call/infer"),
        ("GET", f"{prefix}/queue/data"),
    ]
    [job] = space.jobs
    assert job.data == ["a fox", 7, False, 768, 512, 2]
    assert (job.protocol, job.status) == ("queue", "completed")
    assert job.request.headers["x-gradio-user"] == "api"
    assert "Bearer hf_test" in job.request.headers.values()
    # The queue job names our session and no fn_index (the name picks the function).
    assert job.request.json() == {"data": job.data, "session_hash": job.session_hash}
    assert job.request.path == f"{prefix}/call/infer"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_leaving_a_stream_cancels_the_job(space: FakeSpace, protocol: ProtocolName) -> None:
    # Stuck at its first step: the cancel (now GET /config, then POST /cancel) must find it
    # running however slowly the machine gets there.
    space.respond(Result(), step_delay=math.inf)
    observer = Observer(space)
    async with AsyncFluxClient(space.url, http_transport=observer, protocol=protocol) as client:
        async with anyio.create_task_group() as group:

            async def follow() -> None:
                async with client.stream("a fox", num_inference_steps=8) as stream:
                    async for event in stream:
                        if isinstance(event, Started):
                            group.cancel_scope.cancel()

            group.start_soon(follow)
            if protocol == "call":
                await observer.call_stream_open.wait()
                group.cancel_scope.cancel()
        after = await client.generate("the next one")
    first, second = space.jobs
    assert (first.status, second.status) == ("cancelled", "completed")
    [cancel] = [request for request in space.requests if request.path.endswith("/cancel")]
    assert cancel.json() == {
        "fn_index": 2,
        "session_hash": first.session_hash,
        "event_id": first.event_id,
    }
    # The job went by name with no /config; the cancel read it for the fn_index (Gradio 4's
    # client read it once already, after the 404 at the guessed prefix).
    configs = [index for index, request in enumerate(space.requests) if request.path == "/config"]
    if space.api_prefix == "/gradio_api":
        assert configs == [space.requests.index(cancel) - 1]
    else:
        [config] = configs
        assert config < space.requests.index(first.request)
    assert after.seed >= 0


# -- time ------------------------------------------------------------------------------------------


def test_leaving_a_sync_stream_cancels_the_job(space: FakeSpace) -> None:
    # The sync client's reader runs ahead on its own thread: the job must not.
    space.respond(Result(), Result(), Result(), steps=12, step_delay=0.05)
    with FluxClient(space.url, http_transport=space) as client:
        for _ in range(3):
            with client.stream("a long job") as stream:
                for event in stream:
                    if isinstance(event, Progress):
                        break
    assert [job.status for job in space.jobs] == ["cancelled"] * 3
    assert len([request for request in space.requests if request.path.endswith("/cancel")]) == 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_job_nobody_reads_still_runs(protocol: ProtocolName) -> None:
    space = FakeSpace(step_delay=0)
    async with httpx.AsyncClient(base_url=space.url, transport=space) as http:
        data = ["a fox", 1, False, 256, 256, 3]
        if protocol == "queue":
            body = {"data": data, "fn_index": 2, "session_hash": "s1"}
            await http.post("/gradio_api/queue/join", json=body)
        else:
            await http.post("/gradio_api/call/infer", json={"data": data})
    assert [job.status for job in space.jobs] == ["completed"]


async def test_a_total_timeout_sees_the_fakes_time(space: FakeSpace) -> None:
    space.respond(Result(), step_delay=math.inf)
    async with client_for(space) as client:
        with pytest.raises(FluxTimeoutError) as caught:
            await client.generate("a stuck job", timeout=0.2)
    assert (caught.value.phase, caught.value.seconds) == ("total", 0.2)
    assert space.jobs[0].status == "cancelled"


async def test_jobs_wait_while_the_worker_is_busy(space: FakeSpace) -> None:
    space.respond(Result(), Result(), steps=2, step_delay=0.1)

    async def follow(prompt: str, *, task_status: TaskStatus[None]) -> None:
        async with client.stream(prompt) as stream:
            followed = aiter(stream)
            await anext(followed)  # its first Queued: it joined
            task_status.started()
            async for _ in followed:
                pass

    events: list[Event] = []
    async with client_for(space) as client, anyio.create_task_group() as group:
        for prompt in ("running", "waiting"):
            await group.start(follow, prompt)
        events = await events_of(space, "third", steps=1)
    queued = [(event.rank, event.queue_size) for event in events if isinstance(event, Queued)]
    assert queued == [(1, 2), (0, 1)]
    assert [job.status for job in space.jobs] == ["completed"] * 3


# -- clients, hosts, pools -------------------------------------------------------------------------


def test_the_sync_client(space: FakeSpace) -> None:
    space.respond(Result(seed=3), Result(), Fail.quota())
    with FluxClient(space.url, http_transport=space, max_retries=0) as client:
        assert client.generate("a fox").seed == 3
        with client.stream("a fox", num_inference_steps=2) as stream:
            kinds = [type(event) for event in stream]
        with pytest.raises(QuotaExceededError):
            client.generate("a fox")
    assert kinds == [Queued, Started, Progress, Progress, Completed]


async def test_other_hosts_do_not_answer() -> None:
    space = FakeSpace()
    async with AsyncFluxClient(
        "http://127.0.0.1:7861", http_transport=space, max_retries=0
    ) as client:
        with pytest.raises(FluxConnectionError):
            await client.generate("a fox")


async def test_a_pool_of_fakes() -> None:
    busy, free = FakeSpace(), FakeSpace(url="http://127.0.0.1:7861")
    busy.respond(Fail.quota())
    async with AsyncFluxClient(
        [busy.url, free.url], http_transport=FakePool(busy, free), max_retries=0
    ) as client:
        image = await client.generate("a fox")
    assert image.url.startswith(free.url)
    assert [len(busy.jobs), len(free.jobs)] == [1, 1]
    with pytest.raises(ValueError, match="two fake Spaces"):
        FakePool(busy, FakeSpace())


def test_arguments_are_checked() -> None:
    for version in ("3.50.2", "7.0.0", "six"):
        with pytest.raises(ValueError, match=r"(?i)gradio"):
            FakeSpace(gradio=version)
    with pytest.raises(ValueError, match="concurrency"):
        FakeSpace(concurrency=0)
    with pytest.raises(ValueError, match="max_size"):
        FakeSpace(max_size=0)
    with pytest.raises(ValueError, match="url"):
        FakeSpace(url="ftp://127.0.0.1")
    with pytest.raises(ValueError, match="steps"):
        FakeSpace().respond(steps=-1)
    with pytest.raises(ValueError, match="count"):
        FakeSpace().queue_ahead(-1)
    with pytest.raises(ValueError, match="step_delay"):
        FakeSpace().respond(step_delay=-0.5)
    assert repr(FakeSpace(gradio="5.50.0")) == (
        "FakeSpace(url='http://127.0.0.1:7860', gradio='5.50.0')"
    )


# -- wire details the SDK does not exercise --------------------------------------------------------


async def test_gradio_validates_inputs_like_gradio(space: FakeSpace) -> None:
    async with httpx.AsyncClient(transport=space, base_url=space.url + space.api_prefix) as http:
        post = await http.post("/call/infer", json={"data": ["a fox", 1, False, 5000, 512, 1]})
        stream = await http.get(f"/call/infer/{post.json()['event_id']}")
    expected = {
        "4.44.1": "event: complete",
        "5.50.0": "event: error\ndata: null",
        "6.31.0": 'event: error\ndata: {"error": "Value 5000 is greater than maximum value '
        '2048.", "duration": 10, "visible": true, "title": "Error"}',
    }[space.gradio]
    assert stream.text.startswith(expected)


async def test_a_dropped_call_stream_loses_the_result(space: FakeSpace) -> None:
    async with httpx.AsyncClient(transport=space, base_url=space.url + space.api_prefix) as http:
        event_id = (
            await http.post("/call/infer", json={"data": ["a", 1, False, 256, 256, 1]})
        ).json()["event_id"]
        async with http.stream("GET", f"/call/infer/{event_id}"):
            pass  # connected, then gone before the result
        lines: list[str] = []
        async with http.stream("GET", f"/call/infer/{event_id}") as again:
            try:
                async for line in again.aiter_lines():
                    lines.append(line)
            except httpx.RemoteProtocolError:
                lines.append("<connection dropped>")
    not_found = '"404: Session not found."' if space.gradio.startswith("4.") else '"404: Not Found"'
    assert lines == ["event: error", f"data: {not_found}", "", "<connection dropped>"]


async def test_a_call_stream_ends_with_the_result(space: FakeSpace) -> None:
    async with httpx.AsyncClient(transport=space, base_url=space.url + space.api_prefix) as http:
        posted = await http.post("/call/infer", json={"data": ["a", 1, False, 256, 256, 1]})
        event_id = posted.json()["event_id"]
        stream = await http.get(f"/call/infer/{event_id}")
    assert stream.text.startswith("event: complete\ndata: [{")
    data = json.loads(stream.text.split("data: ", 1)[1])
    assert data[1] == 1


async def test_file_route(space: FakeSpace) -> None:
    async with client_for(space) as client:
        image = await client.generate("a fox")
    async with httpx.AsyncClient(transport=space) as http:
        head = await http.head(image.url)
        missing = await http.get(f"{space.url}{space.api_prefix}/file=/etc/passwd")
    assert (head.status_code, head.headers["content-type"]) == (200, "image/webp")
    assert (missing.status_code, missing.json()) == (
        403,
        {"detail": "File not allowed: /etc/passwd."},
    )


# -- FLUX.1-dev ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("protocol", "previews"), [("queue", 3), ("call", 3)])
async def test_flux_dev_streams_previews(
    version: str, protocol: ProtocolName, previews: int
) -> None:
    space = FakeSpace(gradio=version, space="flux-dev")
    async with (
        AsyncFluxClient(
            space.url, space="flux-dev", http_transport=space, protocol=protocol
        ) as client,
        client.stream("a fox", num_inference_steps=3) as stream,
    ):
        events = [event async for event in stream]
    seen = [event for event in events if isinstance(event, Preview)]
    # Both protocols submit by name (queue: naming a session, followed on queue/data), so every
    # yield arrives whole (Gradio's simple_format): one preview per yield, the last the image.
    assert len(seen) == previews
    assert len({preview.path for preview in seen}) == previews
    final = events[-1]
    assert isinstance(final, Completed)
    assert [job.data for job in space.jobs] == [["a fox", 0, True, 1024, 1024, 3.5, 3]]


async def _generating_outputs(space: FakeSpace, path: str, body: dict[str, object]) -> list[object]:
    async with httpx.AsyncClient(base_url=space.url + space.api_prefix, transport=space) as http:
        submitted = await http.post(path, json=body)
        assert submitted.status_code == 200
        outputs: list[object] = []
        params = {"session_hash": str(body["session_hash"])}
        async with http.stream("GET", "/queue/data", params=params) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                message = cast("dict[str, object]", json.loads(line[6:]))
                if message.get("msg") == "process_generating":
                    output = cast("dict[str, list[object]]", message["output"])
                    outputs.append(output["data"][0])
    return outputs


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_call_naming_a_session_is_a_queue_job_with_whole_yields(version: str) -> None:
    space = FakeSpace(gradio=version, space="flux-dev")
    data = ["a fox", 1, False, 512, 512, 3.5, 3]
    joined = await _generating_outputs(
        space, "/queue/join", {"data": data, "fn_index": 2, "session_hash": "joined"}
    )
    named = await _generating_outputs(space, "/call/infer", {"data": data, "session_hash": "named"})
    # After a join the yields after the first are diffs (lists of edits); by name, each is the
    # image itself (Gradio's simple_format), on the same queue/data stream.
    assert [isinstance(output, dict) for output in joined] == [True, False, False]
    assert [isinstance(output, dict) for output in named] == [True, True, True]
    assert [(job.protocol, job.session_hash, job.status) for job in space.jobs] == [
        ("queue", "joined", "completed"),
        ("queue", "named", "completed"),
    ]
    async with httpx.AsyncClient(base_url=space.url + space.api_prefix, transport=space) as http:
        refused = await http.post("/call/infer", json={"data": data, "session_hash": 5})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "session_hash"]


async def test_flux_dev_previews_are_images_of_their_own() -> None:
    space = FakeSpace(space=FLUX_DEV)
    async with AsyncFluxClient(
        space.url, space=FLUX_DEV, http_transport=space, protocol="call"
    ) as client:
        async with client.stream("a fox", num_inference_steps=2) as stream:
            events = [event async for event in stream]
        first, last = (event for event in events if isinstance(event, Preview))
        final = events[-1]
        assert isinstance(final, Completed)
        assert first.path != final.generation.path
        assert last.path == final.generation.path
        preview = await client.download(
            Generation(url=first.url, path=first.path, seed=0, request=final.generation.request)
        )
    assert preview[8:12] == WEBP[1]


async def test_flux_schnell_streams_no_previews(space: FakeSpace) -> None:
    events = await events_of(space, num_inference_steps=3)
    assert not [event for event in events if isinstance(event, Preview)]


async def test_flux_dev_checks_the_guidance_slider() -> None:
    space = FakeSpace(space="flux-dev")
    async with httpx.AsyncClient(transport=space, base_url=space.url + space.api_prefix) as http:
        post = await http.post("/call/infer", json={"data": ["x", 1, False, 512, 512, 99, 1]})
        async with http.stream("GET", f"/call/infer/{post.json()['event_id']}") as stream:
            body = (await stream.aread()).decode()
        named = await http.post("/call/v2/infer", json={"prompt": "y"})
    assert "Value 99 is greater than maximum value 15." in body
    assert named.status_code == 200
    assert space.jobs[-1].data == ["y", 0, True, 1024, 1024, 3.5, 28]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", ["flux-schnell", "flux-dev"])
async def test_the_sliders_are_the_sdks_limits(version: str, kind: str) -> None:
    """The fake's /config (package data) and the SDK's limits (and the replica's) agree."""
    space = FakeSpace(gradio=version, space=kind)
    async with httpx.AsyncClient(transport=space) as http:
        config = (await http.get(space.url + "/config")).json()
    sliders = {
        component["props"]["label"]: tuple(
            component["props"][key] for key in ("minimum", "maximum", "step", "value")
        )
        for component in config["components"]
        if component["type"] == "slider"
    }
    size = (limits.MIN_SIZE, limits.MAX_SIZE, limits.SIZE_STEP, limits.DEFAULT_SIZE)
    steps = limits.DEV_STEPS if kind == "flux-dev" else limits.SCHNELL_STEPS
    expected: dict[str, tuple[float, ...]] = {
        "Seed": (0, limits.MAX_SEED, 1, 0),
        "Width": size,
        "Height": size,
        "Number of inference steps": (limits.MIN_STEPS, limits.MAX_STEPS, 1, steps),
    }
    if kind == "flux-dev":
        expected["Guidance Scale"] = (
            limits.MIN_GUIDANCE,
            limits.MAX_GUIDANCE,
            0.1,
            limits.DEV_GUIDANCE,
        )
    assert sliders == expected


def test_only_the_two_spaces_are_emulated() -> None:
    assert FakeSpace(space="flux").gradio == "6.31.0"  # an alias of FLUX.1-schnell
    mine = dataclasses.replace(FLUX_DEV, name="my FLUX")
    for space in ("flux-pro", mine):
        with pytest.raises(ValueError, match="flux-schnell"):
            FakeSpace(space=space)


@pytest.mark.fake_space(space="flux-dev")
def test_the_fixture_takes_a_space(fake_space: FakeSpace) -> None:
    with FluxClient(fake_space.url, space="flux-dev", http_transport=fake_space) as client:
        client.generate("a fox", num_inference_steps=1)
    assert len(fake_space.jobs[0].data) == 7


# -- the fixture, the docs, the docstrings ---------------------------------------------------------


_PRIVATE_MODULES = (
    "._apps",
    "._clock",
    "._gradio",
    "._records",
    "._responses",
    "._routes",
    "._scenario",
    "._scheduler",
    "._space",
    "._streams",
    "._webp",
)


def test_docstring_examples() -> None:
    modules = [f"flux_sdk.testing{name}" for name in ("", *_PRIVATE_MODULES)]
    for name in (*modules, "flux_sdk._space_messages"):
        module = importlib.import_module(name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__


def test_the_pytest_plugin_imports_nothing_heavy() -> None:
    script = (
        "import sys, flux_sdk.testing.pytest_plugin; heavy = ('httpx', 'anyio', "
        "'flux_sdk.testing._space'); print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _documented_files() -> dict[str, str]:
    """The docs' code blocks that start with a ``# name.py`` line, by file name."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    files: dict[str, str] = {}
    for block in blocks:
        first, _, rest = block.partition("\n")
        match = re.fullmatch(r"# (\w+\.py)", first.strip())
        if match:
            files[match.group(1)] = rest
    return files


def test_the_documented_examples_run(tmp_path: Path) -> None:
    files = _documented_files()
    assert "conftest.py" in files
    assert len(files) >= 4
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nfilterwarnings =\n    error::ResourceWarning\n"
        "    error::pytest.PytestUnraisableExceptionWarning\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert "failed" not in result.stdout
