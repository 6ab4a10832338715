"""Per-call options (`CallOptions`) and ``with_options``, on `AsyncFluxClient` (asyncio, trio).

The sync client's ``with_options`` is in test_sync.py; sharing real connections, against a
real Gradio replica, in tests/lifecycle/test_with_options.py.
"""

from __future__ import annotations

import json
from typing import cast

import httpx
import pytest
import respx

from flux_sdk import (
    AsyncFluxClient,
    CallOptions,
    ClientClosedError,
    FluxTimeoutError,
    InvalidRequestError,
    ProtocolName,
    Queued,
    RateLimitError,
    ResponseError,
    Timeout,
)
from flux_sdk._options import CallSettings, split_keywords
from tests.unit._support import (
    BASE,
    CALL_OK,
    QUEUE_OK,
    Mounted,
    blocking,
    event_id_of,
    mount_call,
    mount_cancel,
    mount_queue,
    requests,
    sample_request,
    sent_json,
    serve,
)

DEFAULTS = CallSettings.of("auto", 600, 2, False)

# Each is refused by the constructor too, with the same error; the pattern its message matches.
BAD_VALUES: list[tuple[CallOptions, str]] = [
    (cast(CallOptions, {"protocol": "ws"}), "^protocol must be one of"),
    ({"max_retries": -1}, "^max_retries must be an integer"),
    (cast(CallOptions, {"max_retries": 1.5}), "^max_retries must be an integer"),
    ({"timeout": 0}, "^Timeout.total must be positive"),
]


def mount_both(router: respx.MockRouter, version: int = 6) -> tuple[Mounted, Mounted]:
    """The queue and the /call/ protocol of one Space on ``version``'s line: (queue, call).

    Both submit to ``{prefix}/call/infer``; a queue job's body names its ``session_hash``
    (§4.1), which is how its route here tells it apart. Mounted first, so it is matched first.
    """
    [queue] = [line for line in QUEUE_OK if line.version == version]
    [call] = [line for line in CALL_OK if line.version == version]
    in_session = router.post(f"{queue.prefix}/call/infer", content__contains=b'"session_hash"')
    in_session.mock(side_effect=serve(queue.post))
    by_call = mount_call(router, version, call.post, call.stream)
    by_queue = Mounted(
        config=by_call.config,
        submit=in_session,
        stream=router.get(f"{queue.prefix}/queue/data").mock(side_effect=serve(queue.stream)),
    )
    return by_queue, by_call


def stream_path(route: respx.Route) -> str:
    """The path a stream route answers (its only call's)."""
    return str(route.calls.last.request.url.path)


def sent(router: respx.MockRouter) -> list[tuple[str, str]]:
    """Every request, in order, as (method, path)."""
    return [(request.method, request.url.path) for request in requests(router)]


# -- the settings, pure -------------------------------------------------------------------------


def test_merge_overrides_what_is_given_and_keeps_the_rest() -> None:
    merged = DEFAULTS.merge({"protocol": "call", "timeout": 30, "max_retries": None}, "f")
    assert merged == CallSettings("call", Timeout(total=30), 2, False)
    assert DEFAULTS.merge({"wait_on_quota": True}, "f").wait_on_quota is True
    assert DEFAULTS.merge({}, "f") == DEFAULTS


def test_none_keeps_the_clients_value() -> None:
    none: CallOptions = {
        "protocol": None,
        "timeout": None,
        "max_retries": None,
        "wait_on_quota": None,
    }
    assert DEFAULTS.merge(none, "f") == DEFAULTS


@pytest.mark.parametrize(("options", "message"), BAD_VALUES)
def test_values_are_checked_as_the_constructor_checks_them(
    options: CallOptions, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as by_merge:
        DEFAULTS.merge(options, "f")
    arguments = cast("dict[str, object]", options)
    with pytest.raises(ValueError, match=message) as by_constructor:
        AsyncFluxClient(BASE, **arguments)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert str(by_merge.value) == str(by_constructor.value)


def test_an_unknown_option_is_a_type_error_naming_the_caller() -> None:
    with pytest.raises(TypeError, match=r"^with_options\(\) got an unexpected keyword argument"):
        DEFAULTS.merge(cast(CallOptions, {"retries": 1}), "with_options")


def test_split_keywords() -> None:
    options, params = split_keywords({"seed": 7, "timeout": 5, "width": 512, "protocol": "call"})
    assert options == {"timeout": 5, "protocol": "call"}
    assert params == {"seed": 7, "width": 512}


# -- with_options -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_with_options_sets_the_defaults_of_the_client_it_returns(
    router: respx.MockRouter,
) -> None:
    queue, call = mount_both(router)
    async with AsyncFluxClient(BASE) as client:
        by_call = client.with_options(protocol="call")
        assert (by_call.protocol, client.protocol) == ("call", "auto")
        assert repr(by_call) == f"AsyncFluxClient(base_url={BASE!r}, protocol='call')"
        await by_call.generate(sample_request())
        assert (queue.submit.call_count, call.submit.call_count) == (0, 1)
        await client.generate(sample_request())  # the original is left as it was
        assert (queue.submit.call_count, call.submit.call_count) == (1, 1)
        await by_call.generate(sample_request(), protocol="queue")  # a call's own option wins
        assert (queue.submit.call_count, call.submit.call_count) == (2, 1)
        chained = by_call.with_options(max_retries=0)
        assert chained.protocol == "call"  # options made on options keep the earlier ones


@pytest.mark.anyio
async def test_with_options_max_retries(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    space.submit.mock(return_value=httpx.Response(429, headers={"retry-after": "0"}))
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(RateLimitError):
            await client.with_options(max_retries=0).generate(sample_request())
        assert space.submit.call_count == 1
        with pytest.raises(RateLimitError):
            await client.generate(sample_request())  # the client's own: 2 retries
        assert space.submit.call_count == 1 + 3


@pytest.mark.anyio
async def test_with_options_timeout(router: respx.MockRouter) -> None:
    line = CALL_OK[2]
    mount_call(router, 6, line.post, lambda _r: blocking())
    cancel = mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE, protocol="call") as client:
        hasty = client.with_options(timeout=Timeout(idle=0.1, cancel=0.5))
        with pytest.raises(FluxTimeoutError) as caught:
            await hasty.generate(sample_request())
    assert caught.value.phase == "idle"
    assert cancel.call_count == 1


@pytest.mark.anyio
async def test_with_options_shares_the_transport(router: respx.MockRouter) -> None:
    line = QUEUE_OK[0]  # Gradio 4: the first job learns the prefix ("") after a 404
    mount_queue(router, 4, line.post, line.stream)
    async with AsyncFluxClient(BASE) as client:
        twin = client.with_options(timeout=30, wait_on_quota=True)
        assert twin is not client
        assert twin._transport is client._transport  # pyright: ignore[reportPrivateUsage]
        await client.generate(sample_request())
        await twin.generate(sample_request())
    # One pool, so the Space's prefix was discovered once for both clients.
    assert sent(router) == [
        ("POST", "/gradio_api/call/infer"),
        ("GET", "/config"),
        ("POST", "/call/infer"),
        ("GET", "/queue/data"),
        ("POST", "/call/infer"),
        ("GET", "/queue/data"),
    ]


# -- discover -----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("protocol", ["queue", "call"])
@pytest.mark.parametrize("discover", [False, True])
async def test_config_is_read_before_the_first_job_only_with_discover(
    router: respx.MockRouter, protocol: ProtocolName, discover: bool
) -> None:
    queue, call = mount_both(router)
    async with AsyncFluxClient(BASE, protocol=protocol, discover=discover) as client:
        await client.generate(sample_request())
        await client.generate(sample_request())
    stream = stream_path(queue.stream if protocol == "queue" else call.stream)
    job = [("POST", "/gradio_api/call/infer"), ("GET", stream)]
    # A cold client on Gradio 5/6 never reads /config; discover=True reads it once, first.
    assert sent(router) == [("GET", "/config")] * discover + [*job, *job]
    # Either way by name: /config's fn_index goes into no submission.
    submissions = [r for r in requests(router) if r.method == "POST"]
    assert len(submissions) == 2
    for submission in submissions:
        body = json.loads(submission.content)
        assert "fn_index" not in body
        assert ("session_hash" in body) is (protocol == "queue")
    submit = queue.submit if protocol == "queue" else call.submit
    assert submit.call_count == 2


@pytest.mark.anyio
async def test_discover_spares_a_gradio_4_space_the_404(router: respx.MockRouter) -> None:
    line = QUEUE_OK[0]
    space = mount_queue(router, 4, line.post, line.stream)
    async with AsyncFluxClient(BASE, discover=True) as client:
        generation = await client.generate(sample_request())
    assert generation.seed == 1234
    assert sent(router) == [("GET", "/config"), ("POST", "/call/infer"), ("GET", "/queue/data")]
    assert sorted(sent_json(space.submit)) == ["data", "session_hash"]


@pytest.mark.anyio
async def test_with_discover_a_500_is_not_rediscovered(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    space.submit.mock(return_value=httpx.Response(500, text="Internal Server Error"))
    async with AsyncFluxClient(BASE, discover=True) as client:
        with pytest.raises(ResponseError) as caught:
            await client.generate(sample_request())
    assert caught.value.status_code == 500
    # /config was read before the job: the Space is known, so its 500 is its own.
    assert sent(router) == [("GET", "/config"), ("POST", "/gradio_api/call/infer")]


@pytest.mark.anyio
@pytest.mark.parametrize("closed", ["the original", "the one with_options made"])
async def test_closing_either_closes_both(router: respx.MockRouter, closed: str) -> None:
    line = QUEUE_OK[2]
    event_id = event_id_of(line.post)
    estimation = f'data: {{"msg": "estimation", "event_id": "{event_id}", "rank": 0}}\n\n'
    mount_queue(router, 6, line.post, lambda _r: blocking(estimation.encode()))
    cancel = mount_cancel(router, "/gradio_api")
    client = AsyncFluxClient(BASE, timeout=Timeout(cancel=0.5))
    twin = client.with_options(max_retries=0)
    async with client.stream(sample_request()) as events:
        assert isinstance(await events.__anext__(), Queued)
        await (client if closed == "the original" else twin).close()
        with pytest.raises(ClientClosedError):
            await events.__anext__()
    assert cancel.call_count == 1  # the running job was cancelled on the Space
    assert client.is_closed
    assert twin.is_closed
    for each in (client, twin):
        with pytest.raises(ClientClosedError):
            await each.generate(sample_request())


@pytest.mark.anyio
@pytest.mark.parametrize(("options", "message"), BAD_VALUES)
async def test_bad_options_are_refused_before_anything_is_sent(
    router: respx.MockRouter, options: CallOptions, message: str
) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ValueError, match=message):
            client.with_options(**options)
        with pytest.raises(ValueError, match=message):
            client.stream("a fox", **options)
        with pytest.raises(ValueError, match=message):
            await client.generate("a fox", **options)
        with pytest.raises(ValueError, match=message):
            await client.generate_many(["a fox"], **options)
    assert not catch_all.called


@pytest.mark.anyio
async def test_unknown_keywords(router: respx.MockRouter) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    unknown = cast(CallOptions, {"retries": 1})
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(TypeError, match="with_options"):
            client.with_options(**unknown)
        with pytest.raises(TypeError, match="generate_many"):
            await client.generate_many(["a fox"], **unknown)
        # generate's and stream's keywords are parameters too: an unknown one is refused as one.
        with pytest.raises(InvalidRequestError, match="retries"):
            await client.generate("a fox", **unknown)
    assert not catch_all.called
