"""`FluxClient`, the synchronous facade, against respx (its loop runs on its own thread)."""

from __future__ import annotations

import gc
import json
import threading
import weakref

import httpx
import pytest
import respx

from flux_sdk import (
    ClientClosedError,
    Completed,
    Event,
    FluxClient,
    FluxTimeoutError,
    InputRejectedError,
    InvalidRequestError,
    JobFailedError,
    Progress,
    Queued,
    Started,
    Timeout,
)
from tests.unit._support import (
    BASE,
    CALL_OK,
    QUEUE_OK,
    blocking,
    event_id_of,
    mount_call,
    mount_cancel,
    mount_queue,
    output_of,
    sample_request,
    sent_json,
)
from tests.unit.test_options import mount_both, sent

WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8L"


def test_generate_queue(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    image = router.get(output_of(line.stream).url).mock(
        return_value=httpx.Response(200, headers={"content-type": "image/webp"}, content=WEBP)
    )
    with FluxClient(BASE) as client:
        generation = client.generate(sample_request())
        assert client.download(generation) == WEBP
    assert generation.seed == 1234
    assert generation.url == output_of(line.stream).url
    assert generation.request == sample_request()
    # By name, in our session (no fn_index), on a cold client with no /config first.
    body = sent_json(space.submit)
    assert body == {
        "data": ["a red fox in snow", 1234, False, 512, 768, 6],
        "session_hash": body["session_hash"],
    }
    assert space.stream.calls.last.request.url.params["session_hash"] == body["session_hash"]
    assert not space.config.called
    assert image.call_count == 1


def test_generate_call_with_keywords(router: respx.MockRouter) -> None:
    line = CALL_OK[0]
    space = mount_call(router, 4, line.post, line.stream)
    with FluxClient(BASE, protocol="call") as client:
        generation = client.generate(
            "a red fox in snow", seed=1234, randomize_seed=False, width=512, height=768
        )
    assert generation.seed == 1234
    assert generation.path == output_of(line.stream).path
    assert sent_json(space.submit) == {"data": ["a red fox in snow", 1234, False, 512, 768, 4]}
    # Gradio 4: the guessed prefix is answered 404, /config says "none", the job goes there.
    assert sent(router) == [
        ("POST", "/gradio_api/call/infer"),
        ("GET", "/config"),
        ("POST", "/call/infer"),
        ("GET", f"/call/infer/{event_id_of(line.post)}"),
    ]


def test_discover_reads_config_before_the_first_job(router: respx.MockRouter) -> None:
    line = QUEUE_OK[0]
    space = mount_queue(router, 4, line.post, line.stream)
    with FluxClient(BASE, discover=True) as client:
        client.generate(sample_request())
        client.generate(sample_request())
    job = [("POST", "/call/infer"), ("GET", "/queue/data")]
    assert sent(router) == [("GET", "/config"), *job, *job]
    assert sorted(sent_json(space.submit)) == ["data", "session_hash"]


def test_error(router: respx.MockRouter) -> None:
    mount_queue(
        router,
        6,
        "gradio6/22-post-queue-join-gr_error.txt",
        "gradio6/22-get-queue-data-gr_error.txt",
    )
    with FluxClient(BASE) as client, pytest.raises(JobFailedError) as caught:
        client.generate(sample_request())
    assert caught.value.message == "Replica gr.Error: simulated failure (e.g. quota or validation)"
    assert caught.value.title == "Error"


def test_stream_yields_every_event(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    with FluxClient(BASE) as client, client.stream(sample_request()) as events:
        received = list(events)
    assert [type(e) for e in received] == [Queued, Started, *[Progress] * 6, Completed]


def test_stream_error_is_raised_from_iteration(router: respx.MockRouter) -> None:
    mount_queue(
        router,
        6,
        "gradio6/28-post-queue-join-out-of-range.txt",
        "gradio6/28-get-queue-data-out-of-range.txt",
    )
    received: list[Event] = []
    with FluxClient(BASE) as client, client.stream(sample_request()) as events:
        with pytest.raises(InputRejectedError, match="Value 4096"):
            received.extend(events)
        assert list(events) == []
    assert [type(e) for e in received] == [Queued, Started]


def test_stream_early_exit_cancels_the_job(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    event_id = event_id_of(line.post)
    message = {"msg": "estimation", "event_id": event_id, "rank": 3, "queue_size": 4}
    space = mount_queue(
        router, 6, line.post, lambda _r: blocking(f"data: {json.dumps(message)}\n\n".encode())
    )
    cancel = mount_cancel(router, "/gradio_api")
    first: Event | None = None
    with FluxClient(BASE, timeout=Timeout(cancel=0.5)) as client:
        with client.stream(sample_request()) as events:
            for event in events:
                first = event
                break
        # the cancel is sent before the with block is left
        assert cancel.call_count == 1
        # never read for the job: /config is read for the cancel's fn_index, just before it
        assert sent(router) == [
            ("POST", "/gradio_api/call/infer"),
            ("GET", "/gradio_api/queue/data"),
            ("GET", "/config"),
            ("POST", "/gradio_api/cancel"),
        ]
    assert first == Queued(rank=3, queue_size=4)
    assert sent_json(cancel) == {
        "fn_index": 2,
        "session_hash": sent_json(space.submit)["session_hash"],
        "event_id": event_id,
    }


def test_stream_never_iterated_sends_nothing(router: respx.MockRouter) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    with FluxClient(BASE) as client, client.stream("a fox"):
        pass
    assert not catch_all.called


def test_bad_input_raises_before_any_request(router: respx.MockRouter) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    with FluxClient(BASE) as client:
        with pytest.raises(InvalidRequestError):
            client.generate("a fox", width=5000)
        with pytest.raises(InvalidRequestError):
            client.stream("")
    assert not catch_all.called


def test_idle_timeout(router: respx.MockRouter) -> None:
    line = CALL_OK[2]
    mount_call(router, 6, line.post, lambda _r: blocking())
    cancel = mount_cancel(router, "/gradio_api")
    client = FluxClient(BASE, protocol="call", timeout=Timeout(idle=0.1, cancel=0.5))
    with client, pytest.raises(FluxTimeoutError) as caught:
        client.generate(sample_request())
    assert caught.value.phase == "idle"
    assert sent_json(cancel)["session_hash"] == event_id_of(line.post)


def test_the_thread_starts_on_first_use_and_close_stops_it(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    before = set(threading.enumerate())
    client = FluxClient(BASE)
    assert set(threading.enumerate()) == before  # building a client starts nothing
    client.generate(sample_request())
    started = [thread for thread in threading.enumerate() if thread not in before]
    assert [thread.daemon for thread in started] == [True]  # never keeps the process alive
    client.close()
    client.close()
    assert not [thread for thread in started if thread.is_alive()]
    assert client.is_closed
    with pytest.raises(ClientClosedError):
        client.generate(sample_request())
    with pytest.raises(ClientClosedError):
        client.stream(sample_request())
    assert set(threading.enumerate()) == before  # a closed client starts no thread again


def test_a_client_never_used_closes_without_a_thread() -> None:
    before = set(threading.enumerate())
    client = FluxClient(BASE)
    client.close()
    assert set(threading.enumerate()) == before
    with pytest.raises(ClientClosedError):
        client.generate(sample_request())


def test_many_threads_share_one_client(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    seeds: list[int] = []
    with FluxClient(BASE) as client:
        threads = [
            threading.Thread(target=lambda: seeds.append(client.generate(sample_request()).seed))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert seeds == [1234] * 4


@pytest.mark.anyio
async def test_sync_client_inside_a_running_event_loop(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    with FluxClient(BASE) as client:
        generation = client.generate(sample_request())
        with client.stream(sample_request()) as events:
            kinds = [type(e) for e in events]
    assert generation.seed == 1234
    assert kinds[-1] is Completed


def test_calling_the_client_from_its_own_loop_thread_says_so(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    errors: list[BaseException] = []
    with FluxClient(BASE) as client:

        def progress(done: int, total: int) -> None:
            try:
                client.generate(sample_request())
            except RuntimeError as exc:
                errors.append(exc)

        client.generate_many([sample_request()], progress=progress)
    assert len(errors) == 1
    assert "own event-loop thread" in str(errors[0])


# -- with_options ------------------------------------------------------------------------------


def test_with_options_shares_the_loop_thread_and_sets_defaults(router: respx.MockRouter) -> None:
    # Gradio 4: the first job learns the prefix ("") after a 404; every later one goes there.
    by_queue, by_call = mount_both(router, 4)
    before = set(threading.enumerate())
    with FluxClient(BASE) as client:
        twin = client.with_options(protocol="call", timeout=30)
        assert repr(twin) == f"FluxClient(base_url={BASE!r}, protocol='call')"
        assert set(threading.enumerate()) == before  # cheap: nothing starts
        client.generate(sample_request())
        started = set(threading.enumerate()) - before
        twin.generate(sample_request())
        with twin.stream(sample_request(), protocol="queue") as events:
            assert type(list(events)[-1]) is Completed
        twin.generate_many([sample_request()])
        assert set(threading.enumerate()) - before == started  # no second thread
        assert len(started) == 1
    assert (by_queue.submit.call_count, by_call.submit.call_count) == (2, 2)
    assert by_queue.config.call_count == 1  # one pool: discovered once for both
    assert sent(router).count(("POST", "/gradio_api/call/infer")) == 1  # the one 404
    assert twin.is_closed
    assert set(threading.enumerate()) == before
    with pytest.raises(ClientClosedError):
        twin.generate(sample_request())


def test_closing_the_one_with_options_made_closes_the_original(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    before = set(threading.enumerate())
    client = FluxClient(BASE)
    twin = client.with_options(max_retries=0)
    twin.generate(sample_request())
    twin.close()
    assert client.is_closed
    assert set(threading.enumerate()) == before
    with pytest.raises(ClientClosedError):
        client.generate(sample_request())


def test_the_one_with_options_made_outlives_the_original(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    before = set(threading.enumerate())
    twin = FluxClient(BASE).with_options(max_retries=0)  # the original is garbage at once
    gc.collect()
    assert twin.generate(sample_request()).seed == 1234
    closed = weakref.ref(twin)
    del twin
    gc.collect()
    assert closed() is None
    assert set(threading.enumerate()) == before  # collected: closed, its thread ended


def test_bad_options_are_refused_before_anything_is_sent(router: respx.MockRouter) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    with FluxClient(BASE) as client:
        with pytest.raises(ValueError, match="max_retries"):
            client.with_options(max_retries=-1)
        with pytest.raises(ValueError, match="protocol"):
            client.stream("a fox", protocol="ws")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        with pytest.raises(ValueError, match="Timeout"):
            client.generate("a fox", timeout=0)
        with pytest.raises(ValueError, match="max_retries"):
            client.generate_many(["a fox"], max_retries=1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert not catch_all.called
