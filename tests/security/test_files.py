"""What the client fetches and writes: http(s) only, capped, and only where the user said.

A hostile Space chooses the result's URL, its FileData ``path``, the response headers
(Content-Disposition, Content-Length, redirects) and the body. None of it decides where `save`
writes, and nothing but http(s) is ever fetched.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flux_sdk import DownloadError, FluxError
from tests.faults._runner import Facade, Scenario, run
from tests.faults._server import Exchange, FaultServer, Request
from tests.faults._space import IMAGE, FakeSpace

MiB = 1024 * 1024


def tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


# -- only http(s) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "ftp://127.0.0.1/image.webp",
        "gopher://127.0.0.1:70/_x",
        "data:image/webp;base64,UklGRg==",
        "javascript:alert(1)",
    ],
)
def test_non_http_result_urls_are_never_fetched(facade: Facade, space: FakeSpace, url: str) -> None:
    space.result_url = url
    outcome = run(facade, space.url, Scenario(download=True), ports=[space.server.port])
    outcome.raised(DownloadError)
    assert space.files() == []


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_redirects_to_non_http_urls_are_refused(
    facade: Facade, space: FakeSpace, location: str
) -> None:
    space.on_file(lambda _r, exchange: exchange.respond(302, b"", headers={"location": location}))
    outcome = run(facade, space.url, Scenario(download=True), ports=[space.server.port])
    assert "non-http" in str(outcome.raised(DownloadError))
    assert len(space.files()) == 1


@pytest.mark.parametrize("location", ["data:,x", "javascript:alert(1)"])
def test_unjoinable_redirects_are_download_errors(
    facade: Facade, space: FakeSpace, location: str
) -> None:
    space.on_file(lambda _r, exchange: exchange.respond(302, b"", headers={"location": location}))
    outcome = run(facade, space.url, Scenario(download=True), ports=[space.server.port])
    outcome.raised(DownloadError)


def test_an_invalid_location_is_a_flux_error(facade: Facade, space: FakeSpace) -> None:
    # httpx itself refuses it (RemoteProtocolError), so it surfaces as FluxConnectionError.
    space.on_file(
        lambda _r, exchange: exchange.respond(302, b"", headers={"location": "http://[::1/x"})
    )
    outcome = run(facade, space.url, Scenario(download=True), ports=[space.server.port])
    outcome.raised(FluxError)


def test_redirect_loops_are_bounded(facade: Facade, space: FakeSpace) -> None:
    space.on_file(
        lambda request, exchange: exchange.respond(
            302, b"", headers={"location": request.target + "x"}
        )
    )
    outcome = run(facade, space.url, Scenario(download=True), ports=[space.server.port])
    assert "redirects" in str(outcome.raised(DownloadError))
    assert len(space.files()) == 6  # the first request and 5 redirects


# -- capped ----------------------------------------------------------------------------------------


def test_a_declared_size_over_the_cap_is_refused_before_the_body(
    facade: Facade, space: FakeSpace, tmp_path: Path
) -> None:
    def huge(_request: Request, exchange: Exchange) -> None:
        exchange.send(
            b"HTTP/1.1 200 OK\r\ncontent-type: image/webp\r\n"
            + f"content-length: {64 * 1024 * MiB}\r\n\r\n".encode()
        )
        exchange.pause(5)  # the body never comes: the client must not wait for it

    space.on_file(huge)
    target = tmp_path / "image.webp"
    scenario = Scenario(save_to=target, max_download_bytes=MiB)
    outcome = run(facade, space.url, scenario, ports=[space.server.port])
    assert "max_download_bytes" in str(outcome.raised(DownloadError))
    assert tree(tmp_path) == set()


def test_a_body_at_the_cap_is_accepted_and_one_byte_more_refused(
    facade: Facade, space: FakeSpace, tmp_path: Path
) -> None:
    scenario = Scenario(download=True, max_download_bytes=len(IMAGE))
    assert run(facade, space.url, scenario, ports=[space.server.port]).content == IMAGE
    smaller = Scenario(download=True, max_download_bytes=len(IMAGE) - 1)
    run(facade, space.url, smaller, ports=[space.server.port]).raised(DownloadError)


# -- save writes exactly where it is told ---------------------------------------------------------

HOSTILE_PATHS = [
    "../../escaped.webp",
    "/etc/flux-sdk-test-must-not-exist",
    "..\\..\\escaped.webp",
    "image.webp/../../../escaped.webp",
]


@pytest.mark.parametrize("hostile_path", HOSTILE_PATHS)
def test_save_ignores_the_spaces_path_and_file_name(
    facade: Facade, space: FakeSpace, tmp_path: Path, hostile_path: str
) -> None:
    def with_hostile_name(_request: Request, exchange: Exchange) -> None:
        exchange.respond(
            200,
            IMAGE,
            content_type="image/webp",
            headers={
                "content-disposition": 'attachment; filename="../../escaped.webp"; '
                "filename*=UTF-8''..%2F..%2Fescaped.webp"
            },
        )

    space.on_file(with_hostile_name)
    original = space.filedata

    def hostile_filedata(url: str | None = None) -> dict[str, object]:
        data = original(url)
        data["path"] = hostile_path
        data["orig_name"] = "../../escaped.webp"
        return data

    space.filedata = hostile_filedata  # type: ignore[method-assign]
    work = tmp_path / "work"
    work.mkdir()
    target = work / "mine.webp"
    neighbours = set(os.listdir(tmp_path.parent))
    outcome = run(facade, space.url, Scenario(save_to=target), ports=[space.server.port])
    assert outcome.saved == target
    assert target.read_bytes() == IMAGE
    assert outcome.generation is not None
    assert outcome.generation.path == hostile_path  # reported, never used as a place to write
    assert tree(tmp_path) == {"work", "work/mine.webp"}
    assert set(os.listdir(tmp_path.parent)) == neighbours
    assert not Path("/etc/flux-sdk-test-must-not-exist").exists()


def test_a_result_url_with_dot_segments_is_only_a_request(
    facade: Facade, space: FakeSpace, tmp_path: Path
) -> None:
    # httpx removes the dot segments (RFC 3986): the request is for /etc/passwd on the Space,
    # which is the Space's business; the file still lands only at the given path.
    space.server.route(
        "GET", "/", lambda _r, exchange: exchange.respond(200, IMAGE, content_type="image/webp")
    )
    space.result_url = f"{space.url}/gradio_api/file=/tmp/../../etc/passwd"
    target = tmp_path / "mine.webp"
    outcome = run(facade, space.url, Scenario(save_to=target), ports=[space.server.port])
    assert outcome.saved == target
    assert tree(tmp_path) == {"mine.webp"}


def test_the_file_lands_on_another_origin_too_only_at_the_given_path(
    facade: Facade, space: FakeSpace, other_host: FaultServer, tmp_path: Path
) -> None:
    other_host.route(
        "GET",
        "/",
        lambda _r, exchange: exchange.respond(
            200,
            IMAGE,
            content_type="image/webp",
            headers={"content-disposition": 'attachment; filename="/tmp/evil.webp"'},
        ),
    )
    space.result_url = f"{other_host.url}/../../x.webp"
    target = tmp_path / "mine.webp"
    outcome = run(
        facade, space.url, Scenario(save_to=target), ports=[space.server.port, other_host.port]
    )
    assert outcome.saved == target
    assert tree(tmp_path) == {"mine.webp"}
