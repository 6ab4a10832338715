"""`download` and `save` against respx: limits, refused URLs, redirects, atomic files (§5)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from flux_sdk import AsyncFluxClient, DownloadError, GenerateRequest, Generation
from flux_sdk._protocol import decode_call
from tests.unit._support import BASE, chunked, job, replay, resource_warnings

pytestmark = pytest.mark.anyio

IMAGE_PATH = "/tmp/gradio/4cf3d8da/image.webp"
IMAGE_URL = f"{BASE}/gradio_api/file={IMAGE_PATH}"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(range(256)) * 4


def generation(url: str = IMAGE_URL) -> Generation:
    return Generation(url=url, path=IMAGE_PATH, seed=1, request=GenerateRequest(prompt="a fox"))


def listing(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def image(content: bytes = WEBP) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "image/webp"}, content=content)


async def test_download_returns_the_bytes(router: respx.MockRouter) -> None:
    route = router.get(IMAGE_URL).mock(return_value=image())
    async with AsyncFluxClient(BASE) as client:
        assert await client.download(generation()) == WEBP
    assert route.call_count == 1


async def test_download_of_a_chunked_body(router: respx.MockRouter) -> None:
    router.get(IMAGE_URL).mock(return_value=chunked(WEBP[:10], WEBP[10:500], WEBP[500:]))
    async with AsyncFluxClient(BASE) as client:
        assert await client.download(generation()) == WEBP


async def test_download_at_exactly_the_limit(router: respx.MockRouter) -> None:
    router.get(IMAGE_URL).mock(return_value=image())
    async with AsyncFluxClient(BASE, max_download_bytes=len(WEBP)) as client:
        assert await client.download(generation()) == WEBP


async def test_too_large_by_content_length(router: respx.MockRouter) -> None:
    route = router.get(IMAGE_URL).mock(return_value=image())
    assert route.return_value is not None
    assert route.return_value.headers["content-length"] == str(len(WEBP))
    async with AsyncFluxClient(BASE, max_download_bytes=100) as client:
        with pytest.raises(DownloadError, match="max_download_bytes") as caught:
            await client.download(generation())
    assert "100" in str(caught.value)


async def test_too_large_by_streamed_size(router: respx.MockRouter) -> None:
    response = chunked(WEBP[:64], WEBP[64:128], WEBP[128:])
    assert "content-length" not in response.headers
    router.get(IMAGE_URL).mock(return_value=response)
    with resource_warnings():  # asserted in test_too_large_leaves_no_open_stream
        async with AsyncFluxClient(BASE, max_download_bytes=100) as client:
            with pytest.raises(DownloadError, match="max_download_bytes"):
                await client.download(generation())


async def test_too_large_leaves_no_open_stream(
    router: respx.MockRouter, request: pytest.FixtureRequest, anyio_backend: str
) -> None:
    router.get(IMAGE_URL).mock(return_value=chunked(WEBP[:64], WEBP[64:128], WEBP[128:]))
    with resource_warnings() as leaks:
        async with AsyncFluxClient(BASE, max_download_bytes=100) as client:
            with pytest.raises(DownloadError):
                await client.download(generation())
    assert [str(w.message) for w in leaks] == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x.webp", "javascript:alert(1)", "data:,x"]
)
async def test_non_http_url_is_refused_without_a_request(
    router: respx.MockRouter, url: str
) -> None:
    catch_all = router.route().mock(return_value=image())
    unsafe = Generation.model_construct(
        url=url, path="/etc/passwd", seed=1, request=GenerateRequest(prompt="a fox")
    )
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(DownloadError, match="non-http"):
            await client.download(unsafe)
    assert not catch_all.called
    assert not router.calls


async def test_non_http_url_from_a_decoded_payload_is_refused(router: respx.MockRouter) -> None:
    catch_all = router.route().mock(return_value=image())
    completed = decode_call(
        "complete", '[{"path": "/etc/passwd", "url": "file:///etc/passwd"}, 1]', job("e" * 32)
    )
    assert completed is not None
    assert completed.type == "completed"  # type: ignore[union-attr]
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(DownloadError):
            await client.download(completed.generation)  # type: ignore[union-attr]
    assert not catch_all.called


async def test_redirect_to_a_non_http_url_is_refused(router: respx.MockRouter) -> None:
    router.get(IMAGE_URL).mock(
        return_value=httpx.Response(302, headers={"location": "file:///etc/passwd"})
    )
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(DownloadError, match="non-http"):
            await client.download(generation())


async def test_redirects_are_followed(router: respx.MockRouter) -> None:
    router.get(IMAGE_URL).mock(
        return_value=httpx.Response(307, headers={"location": "/gradio_api/file=/tmp/moved.webp"})
    )
    moved = router.get("/gradio_api/file=/tmp/moved.webp").mock(return_value=image())
    async with AsyncFluxClient(BASE) as client:
        assert await client.download(generation()) == WEBP
    assert moved.called


async def test_redirect_loop_is_a_download_error(router: respx.MockRouter) -> None:
    loop = router.get(IMAGE_URL).mock(
        return_value=httpx.Response(302, headers={"location": IMAGE_URL})
    )
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(DownloadError, match="redirects"):
            await client.download(generation())
    assert 1 < loop.call_count < 20


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gradio6/42-get-file-outside-cache.txt", "File not allowed: /etc/passwd."),
        (
            "gradio6/46-get-file-missing-in-cache.txt",
            "File not allowed: /tmp/gradio/0000/image.webp.",
        ),
        ("gradio6/43-get-file-noprefix.txt", "Not Found"),
    ],
)
async def test_http_error_is_a_download_error(
    router: respx.MockRouter, name: str, message: str
) -> None:
    router.get(IMAGE_URL).mock(return_value=replay(name))
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(DownloadError) as caught:
            await client.download(generation())
    assert type(caught.value) is DownloadError
    assert caught.value.message == message
    assert caught.value.status_code == replay(name).status_code


async def test_save_writes_exactly_the_given_path(router: respx.MockRouter, tmp_path: Path) -> None:
    router.get(IMAGE_URL).mock(return_value=chunked(WEBP[:100], WEBP[100:]))
    target = tmp_path / "fox.webp"
    async with AsyncFluxClient(BASE) as client:
        saved = await client.save(generation(), target)
    assert saved == target
    assert target.read_bytes() == WEBP
    assert listing(tmp_path) == [target]


async def test_save_accepts_a_str_and_replaces(router: respx.MockRouter, tmp_path: Path) -> None:
    router.get(IMAGE_URL).mock(return_value=image())
    target = tmp_path / "out.png"  # the name is the caller's, whatever the Space's format
    target.write_bytes(b"old")
    async with AsyncFluxClient(BASE) as client:
        saved = await client.save(generation(), str(target))
    assert saved == target
    assert target.read_bytes() == WEBP
    assert listing(tmp_path) == [target]


@pytest.mark.parametrize("failure", ["streamed-too-large", "declared-too-large", "http-403"])
async def test_failed_save_leaves_no_partial_file(
    router: respx.MockRouter, tmp_path: Path, failure: str
) -> None:
    if failure == "streamed-too-large":
        response = chunked(WEBP[:80], WEBP[80:160], WEBP[160:])
    elif failure == "declared-too-large":
        response = image()
    else:
        response = replay("gradio6/42-get-file-outside-cache.txt")
    router.get(IMAGE_URL).mock(return_value=response)
    target = tmp_path / "fox.webp"
    with resource_warnings():
        async with AsyncFluxClient(BASE, max_download_bytes=100) as client:
            with pytest.raises(DownloadError):
                await client.save(generation(), target)
    assert listing(tmp_path) == []


async def test_failed_save_keeps_the_previous_file(
    router: respx.MockRouter, tmp_path: Path
) -> None:
    router.get(IMAGE_URL).mock(return_value=chunked(WEBP[:80], WEBP[80:]))
    target = tmp_path / "fox.webp"
    target.write_bytes(b"previous")
    with resource_warnings():
        async with AsyncFluxClient(BASE, max_download_bytes=100) as client:
            with pytest.raises(DownloadError):
                await client.save(generation(), target)
    assert target.read_bytes() == b"previous"
    assert listing(tmp_path) == [target]
