"""Jobs you hold and batches as they finish, against real Gradio 4, 5 and 6 replicas.

The replica has one worker, so jobs queue behind each other; ``[slow]`` jobs take 0.25 s a
step. Where a test must see a request reach the Space (a cancel), a recording relay stands in
front of the replica (`tests.lifecycle._proxy`), and the test waits on what it saw, not on time.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from concurrent import futures

import anyio
import psutil
import pytest

from flux_sdk import (
    AsyncFluxClient,
    BatchItem,
    ClientClosedError,
    Completed,
    FluxClient,
    GenerateRequest,
    Generation,
    JobCancelledError,
    JobFailedError,
    Progress,
    Queued,
    Started,
)
from tests.lifecycle._proxy import LIMIT, Relay, Seen
from tests.lifecycle.test_exit_and_signals import (
    assert_the_space_cancelled_it,
    finish,
    start,
    streaming,
)

from .conftest import Server

LONG = GenerateRequest(prompt="[slow] a long job", num_inference_steps=50)  # 12.5 s on the Space


@pytest.fixture
def relay(server: Server) -> Iterator[Relay]:
    with Relay(server.url) as relay:
        yield relay


def streams(count: int) -> Callable[[list[Seen]], bool]:
    """A predicate: ``count`` job streams are open on the Space (its jobs are there)."""

    def seen_enough(seen: list[Seen]) -> bool:
        opened = [s for s in seen if s.method == "GET" and "/queue/data" in s.path]
        return len(opened) >= count

    return seen_enough


def cancels_answered(count: int) -> Callable[[list[Seen]], bool]:
    def seen_enough(seen: list[Seen]) -> bool:
        answered = [s for s in seen if s.path.endswith("/cancel") and s.status is not None]
        return len(answered) >= count

    return seen_enough


def open_connections(relay: Relay) -> list[str]:
    return [
        f"{c.laddr} -> {c.raddr} {c.status}"
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == relay.port
    ]


def test_a_sync_job_reports_queued_running_and_completed(server: Server) -> None:
    order = ["submitting", "queued", "running", "completed"]
    states: list[str] = []
    with FluxClient(server.url) as client:
        job = client.submit("[slow] a lighthouse at dusk", num_inference_steps=3)
        states.append(job.status().state)
        for event in job.events():
            # The status is the job's now, which may be past the event being read.
            status = job.status()
            states.append(status.state)
            if status.state == "queued":
                assert isinstance(status.queued, Queued)
            if status.state == "running" and status.progress is not None:
                assert status.progress.total == 3
            if isinstance(event, Progress):
                assert status.state in ("running", "completed")
        generation = job.result(timeout=LIMIT)
    assert states == sorted(states, key=order.index)
    assert "running" in states  # 0.25 s a step: read while it ran
    assert states[-1] == "completed"
    assert job.status().generation == generation
    replayed = list(job.events())
    assert isinstance(replayed[0], Queued)
    assert isinstance(replayed[-1], Completed)
    assert any(isinstance(event, Started) for event in replayed)
    assert sum(isinstance(event, Progress) for event in replayed) >= 3


def test_sync_jobs_with_concurrent_futures(server: Server) -> None:
    with FluxClient(server.url) as client:
        jobs = [
            client.submit("a fox", seed=1, randomize_seed=False),
            client.submit("[error] the model is on fire"),
            client.submit("a lighthouse", seed=2, randomize_seed=False),
        ]
        done, not_done = futures.wait(jobs, timeout=LIMIT)
        assert (len(done), not_done) == (3, set())
        finished = list(futures.as_completed(jobs, timeout=LIMIT))
    assert set(finished) == set(jobs)
    assert [jobs[0].result().seed, jobs[2].result().seed] == [1, 2]
    assert isinstance(jobs[1].exception(), JobFailedError)
    assert [job.status().state for job in jobs] == ["completed", "failed", "completed"]


def test_cancel_reaches_the_space_and_frees_its_worker(relay: Relay) -> None:
    with FluxClient(relay.url) as client:
        job = client.submit(LONG)
        relay.wait_for(streams(1), "the job's stream")
        assert job.cancel() is True
        assert [seen.status for seen in relay.cancels()] == [200]
        with pytest.raises(JobCancelledError):
            job.result()
        # The single worker is free again: the next job completes.
        assert client.submit("after the cancel").result(timeout=LIMIT).seed >= 0
    assert open_connections(relay) == []


def test_close_cancels_every_submitted_job_on_the_space(relay: Relay) -> None:
    before = set(threading.enumerate())
    client = FluxClient(relay.url)
    jobs = [client.submit(LONG), client.submit(LONG)]
    relay.wait_for(streams(2), "both jobs' streams")
    client.close()
    for job in jobs:
        assert job.done()
        with pytest.raises(ClientClosedError):
            job.result()
    relay.wait_for(cancels_answered(2), "two cancels")
    assert [seen.status for seen in relay.cancels()] == [200, 200]
    assert [t for t in set(threading.enumerate()) - before if t.name != "lifecycle-relay"] == []
    assert open_connections(relay) == []


@pytest.mark.anyio
async def test_an_async_job_completes_and_replays_its_events(server: Server) -> None:
    async with AsyncFluxClient(server.url) as client:
        job = client.submit("a fox in a job", seed=4, randomize_seed=False)
        generation = await job
        events = [event async for event in job.events()]
        assert await job.cancel() is False
    assert generation.seed == 4
    assert job.status().state == "completed"
    assert isinstance(events[0], Queued)
    assert events[-1] == Completed(generation=generation)


@pytest.mark.anyio
async def test_an_async_cancel_reaches_the_space(relay: Relay) -> None:
    async with AsyncFluxClient(relay.url) as client:
        job = client.submit(LONG)
        await anyio.to_thread.run_sync(relay.wait_for, streams(1), "the job's stream")
        assert await job.cancel() is True
        assert job.status().state == "cancelled"
    assert [seen.status for seen in relay.cancels()] == [200]
    assert open_connections(relay) == []


@pytest.mark.anyio
async def test_as_completed_carries_index_prompt_and_outcome(server: Server) -> None:
    prompts: list[str | GenerateRequest] = ["one", "[error] two", "", "three"]
    items: list[BatchItem] = []
    async with AsyncFluxClient(server.url) as client:
        async for item in client.as_completed(prompts, concurrency=2):
            items.append(item)
    assert items[0].index == 2  # the invalid prompt: never sent, first out
    assert sorted(item.index for item in items) == [0, 1, 2, 3]
    by_index = {item.index: item for item in items}
    assert all(by_index[index].prompt == prompt for index, prompt in enumerate(prompts))
    assert isinstance(by_index[0].result, Generation)
    assert isinstance(by_index[1].result, JobFailedError)
    assert isinstance(by_index[3].result, Generation)
    assert by_index[3].result.request.prompt == "three"


def test_leaving_sync_as_completed_early_cancels_the_rest(relay: Relay) -> None:
    with FluxClient(relay.url) as client:
        for item in client.as_completed(["a quick one", LONG], concurrency=1):
            assert item.index == 0
            # The next job started before this item was handed over.
            relay.wait_for(streams(2), "the next job's stream")
            break
        assert [seen.status for seen in relay.cancels()] == [200]
    assert open_connections(relay) == []


INTERRUPTED = {
    "waiting for result()": """
        client = FluxClient(URL)
        client.submit(SLOW, num_inference_steps=50).result()
        """,
    "reading a job's events": """
        client = FluxClient(URL)
        for event in client.submit(SLOW, num_inference_steps=50).events():
            pass
        """,
    "in as_completed": """
        with FluxClient(URL) as client:
            for item in client.as_completed([SLOW + " one", SLOW + " two"], concurrency=1):
                pass
        """,
}


@pytest.mark.parametrize("script", INTERRUPTED.values(), ids=INTERRUPTED.keys())
def test_a_real_ctrl_c_cancels_the_job_on_the_space(relay: Relay, script: str) -> None:
    process = start(script, relay.url)
    relay.wait_for(streaming, "the job's stream")
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == -signal.SIGINT
    assert "KeyboardInterrupt" in err
    assert_the_space_cancelled_it(relay)


def test_a_script_that_ends_with_a_job_running_cancels_it_and_exits(relay: Relay) -> None:
    code, out, err = finish(
        start(
            """
            client = FluxClient(URL)
            job = client.submit(SLOW, num_inference_steps=50)
            print(type(next(job.events())).__name__, flush=True)
            # The script ends here: no close(), no result().
            """,
            relay.url,
        )
    )
    assert (code, err) == (0, "")
    assert out.strip() in {"Queued", "Started"}
    assert_the_space_cancelled_it(relay)


def test_a_forked_child_is_told_a_parents_job_is_not_its_own(relay: Relay) -> None:
    code, out, err = finish(
        start(
            """
            import os
            from flux_sdk import ClientClosedError

            client = FluxClient(URL)
            done = client.submit("a quick one")
            done.result()
            job = client.submit(SLOW, num_inference_steps=50)
            next(job.events())
            pid = os.fork()
            if pid == 0:
                try:
                    job.result()
                except ClientClosedError:
                    os._exit(0 if done.result().request.prompt == "a quick one" else 2)
                os._exit(1)
            _, status = os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status), job.cancel())
            """,
            relay.url,
        )
    )
    assert (code, err) == (0, "")
    assert out.split() == ["0", "True"]
    assert_the_space_cancelled_it(relay)
