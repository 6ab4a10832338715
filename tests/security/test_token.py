"""The Hugging Face token goes to the Space's origin and nowhere else, and is never shown.

Real sockets: every request each server received is recorded with its raw head, so "not sent"
means the token's bytes are in no header at all (X-HF-Authorization, Authorization, Cookie...).
An origin is scheme, host and port: another port on the Space's own host is another origin.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from flux_sdk import AsyncFluxClient, FluxClient, ResponseError, Timeout
from flux_sdk._auth import SpaceTokenAuth
from tests.faults._runner import TOKEN, Facade, Scenario, run
from tests.faults._server import Exchange, FaultServer, Request
from tests.faults._space import IMAGE, PREFIX, FakeSpace

SECRET = TOKEN.encode()


def serve_image(server: FaultServer) -> None:
    server.route(
        "GET", "/", lambda _r, exchange: exchange.respond(200, IMAGE, content_type="image/webp")
    )


def assert_only_the_space_got_the_token(space: FakeSpace, *others: FaultServer) -> None:
    assert space.server.requests(), "the Space saw no request"
    for request in space.server.requests():
        assert request.headers.get("x-hf-authorization") == f"Bearer {TOKEN}", request.target
    for other in others:
        for request in other.requests():
            assert SECRET not in request.head, f"token sent to {other.url}{request.target}"


# -- the token's destination ---------------------------------------------------------------------


@pytest.mark.parametrize("where", ["other-host", "other-port"])
def test_result_on_another_origin_is_fetched_without_the_token(
    facade: Facade,
    space: FakeSpace,
    other_host: FaultServer,
    other_port: FaultServer,
    where: str,
) -> None:
    other = other_host if where == "other-host" else other_port
    serve_image(other)
    space.result_url = f"{other.url}/cdn/image.webp"
    outcome = run(
        facade,
        space.url,
        Scenario(token=TOKEN, download=True),
        ports=[space.server.port, other.port],
    )
    assert outcome.content == IMAGE
    assert len(other.requests("GET", "/cdn/")) == 1
    assert_only_the_space_got_the_token(space, other)


@pytest.mark.parametrize("where", ["other-host", "other-port"])
def test_redirects_off_the_space_drop_the_token_and_back_on_restore_it(
    facade: Facade,
    space: FakeSpace,
    other_host: FaultServer,
    other_port: FaultServer,
    where: str,
) -> None:
    # Space file -> other origin -> back to the Space: only the Space hops carry the token.
    other = other_host if where == "other-host" else other_port
    other.route(
        "GET",
        "/hop",
        lambda _r, exchange: exchange.respond(
            307, b"", headers={"location": f"{space.url}{PREFIX}/file=/tmp/final.webp"}
        ),
    )
    first = True

    def file_route(request: Request, exchange: Exchange) -> None:
        nonlocal first
        if first:
            first = False
            exchange.respond(302, b"", headers={"location": f"{other.url}/hop"})
        else:
            exchange.respond(200, IMAGE, content_type="image/webp")

    space.on_file(file_route)
    outcome = run(
        facade,
        space.url,
        Scenario(token=TOKEN, download=True),
        ports=[space.server.port, other.port],
    )
    assert outcome.content == IMAGE
    assert len(space.files()) == 2
    assert len(other.requests("GET", "/hop")) == 1
    assert_only_the_space_got_the_token(space, other)


def test_userinfo_in_a_result_url_does_not_make_it_the_space(
    facade: Facade, space: FakeSpace, other_host: FaultServer
) -> None:
    # "http://<space host:port>@127.0.0.2:<port>/..." is a request to 127.0.0.2.
    serve_image(other_host)
    space.result_url = f"http://127.0.0.1:{space.server.port}@{other_host.host}:{other_host.port}/x"
    outcome = run(
        facade,
        space.url,
        Scenario(token=TOKEN, download=True),
        ports=[space.server.port, other_host.port],
    )
    assert outcome.content == IMAGE
    assert_only_the_space_got_the_token(space, other_host)


@pytest.mark.parametrize("route", ["config", "submit"])
def test_api_requests_never_follow_redirects(
    facade: Facade, space: FakeSpace, other_host: FaultServer, route: str
) -> None:
    # A redirect on /config or the submission (or any API route) is an error, not a hop to
    # another host. A 307 keeps the method and body: followed, it would re-send the job.
    other_host.route("GET", "/", lambda _r, exchange: exchange.respond(200, b"{}"))
    other_host.route("POST", "/", lambda _r, exchange: exchange.respond_json({"event_id": "x"}))
    if route == "config":
        space.on_config(
            lambda _r, exchange: exchange.respond(
                302, b"", headers={"location": f"{other_host.url}/config"}
            )
        )
    else:
        space.on_submit(
            "queue",
            lambda _r, exchange: exchange.respond(
                307, b"", headers={"location": f"{other_host.url}{PREFIX}/call/infer"}
            ),
        )
    outcome = run(
        facade,
        space.url,
        # A cold client reads /config only when needed: discover=True reads it first.
        Scenario(token=TOKEN, discover=route == "config"),
        ports=[space.server.port, other_host.port],
    )
    outcome.raised(ResponseError)
    assert other_host.requests() == []
    assert len(space.submits("queue")) == (0 if route == "config" else 1)


@pytest.mark.parametrize(
    ("space_url", "request_url", "sent"),
    [
        ("https://s.hf.space", "https://s.hf.space/gradio_api/file=/x", True),
        ("https://s.hf.space", "https://s.hf.space:443/x", True),
        ("https://S.HF.space", "https://s.hf.space/x", True),
        ("http://127.0.0.1:7860", "http://127.0.0.1:7860/x", True),
        ("https://s.hf.space", "http://s.hf.space/x", False),
        ("https://s.hf.space", "https://s.hf.space:8443/x", False),
        ("https://s.hf.space", "https://evil.hf.space/x", False),
        ("https://s.hf.space", "https://s.hf.space.evil.example/x", False),
        ("https://s.hf.space", "https://s.hf.space@evil.example/x", False),
        ("http://127.0.0.1:7860", "http://127.0.0.1:7861/x", False),
        ("http://127.0.0.1:7860", "http://127.0.0.2:7860/x", False),
        ("http://127.0.0.1:7860", "http://localhost:7860/x", False),
    ],
)
def test_origin_rule(space_url: str, request_url: str, sent: bool) -> None:
    auth = SpaceTokenAuth(TOKEN, [httpx.URL(space_url)])
    request = next(auth.auth_flow(httpx.Request("GET", request_url)))
    assert ("x-hf-authorization" in request.headers) is sent
    assert "authorization" not in request.headers


# -- never shown ---------------------------------------------------------------------------------


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """All loggers at DEBUG: flux_sdk, httpx, httpcore, anyio..."""
    caplog.set_level(logging.DEBUG)
    return caplog


def texts_of(error: BaseException | None) -> list[str]:
    """str and repr of an error and of everything it carries or chains to."""
    found: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        found += [str(error), repr(error), repr(vars(error))]
        error = error.__cause__ or error.__context__
    return found


def assert_never_shown(caplog: pytest.LogCaptureFixture, texts: list[str]) -> None:
    assert caplog.records, "nothing was logged: the check would be empty"
    for record in caplog.records:
        assert TOKEN not in record.getMessage(), record.name
        assert TOKEN not in (record.exc_text or "")
    for text in texts:
        assert TOKEN not in text


def test_token_is_in_no_log_line_repr_or_error_on_success_and_download(
    facade: Facade, space: FakeSpace, every_log_line: pytest.LogCaptureFixture
) -> None:
    outcome = run(
        facade, space.url, Scenario(token=TOKEN, download=True), ports=[space.server.port]
    )
    assert outcome.content == IMAGE
    assert_never_shown(every_log_line, [*outcome.repr_texts, repr(outcome.generation)])
    assert any(r.name.startswith("httpcore") for r in every_log_line.records)


@pytest.mark.parametrize(
    "fault", ["retried-then-refused", "reset", "timeout", "error-in-stream", "download-403"]
)
def test_token_is_in_no_log_line_or_error_on_failures(
    facade: Facade, space: FakeSpace, every_log_line: pytest.LogCaptureFixture, fault: str
) -> None:
    scenario = Scenario(token=TOKEN)
    if fault == "retried-then-refused":
        space.on_submit(
            "queue",
            lambda _r, exchange: exchange.respond_json(
                {"detail": "Queue is full."}, 503, headers={"retry-after": "0"}
            ),
        )
    elif fault == "reset":
        space.on_stream("queue", lambda _r, exchange: exchange.reset())
    elif fault == "timeout":

        def silent(request: Request, exchange: Exchange) -> None:
            exchange.start_stream()
            space.keep_streaming("queue", request, exchange, send=lambda _: b"", every=0.1)

        space.on_stream("queue", silent)
        scenario = Scenario(token=TOKEN, timeout=Timeout(total=None, idle=0.3, cancel=2))
    elif fault == "error-in-stream":

        def failed(request: Request, exchange: Exchange) -> None:
            event_id = space.event_id(request)
            exchange.start_stream()
            exchange.chunk(
                b'data: {"msg":"process_completed","event_id":"'
                + event_id.encode()
                + b'","output":{"error":"boom","title":"Error"},"success":false}\n\n'
            )
            exchange.end_stream()

        space.on_stream("queue", failed)
    else:
        space.on_file(lambda _r, exchange: exchange.respond_json({"detail": "no"}, 403))
        scenario = Scenario(token=TOKEN, download=True)
    outcome = run(facade, space.url, scenario, ports=[space.server.port])
    assert outcome.error is not None
    assert_never_shown(every_log_line, outcome.repr_texts + texts_of(outcome.error))


async def _open_async_client() -> list[str]:
    async with AsyncFluxClient("http://127.0.0.1:9", token=TOKEN) as client:
        transport = client._transport  # pyright: ignore[reportPrivateUsage]
        return [
            repr(client),
            str(client),
            repr(transport),
            repr(transport._http.auth),  # pyright: ignore[reportPrivateUsage]
            repr(vars(client)),
            repr(vars(transport)),
        ]


@pytest.mark.anyio
async def test_async_client_reprs_never_show_the_token() -> None:
    assert all(TOKEN not in text for text in await _open_async_client())


def test_sync_client_reprs_never_show_the_token() -> None:
    with FluxClient("http://127.0.0.1:9", token=TOKEN) as client:
        texts = [repr(client), str(client), repr(vars(client))]
    assert all(TOKEN not in text for text in texts)


def test_token_from_the_environment_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with FluxClient("http://127.0.0.1:9") as client:
        assert TOKEN not in repr(client)
        assert TOKEN not in repr(vars(client))


def test_a_space_echoing_the_token_back_does_not_get_it_shown(
    facade: Facade, space: FakeSpace, every_log_line: pytest.LogCaptureFixture
) -> None:
    def echo(request: Request, exchange: Exchange) -> None:
        exchange.respond_json({"detail": f"bad request: {request.head.decode()}"}, 503)

    space.on_submit("queue", echo)
    outcome = run(
        facade, space.url, Scenario(token=TOKEN, max_retries=1), ports=[space.server.port]
    )
    assert outcome.error is not None
    assert_never_shown(every_log_line, texts_of(outcome.error))
