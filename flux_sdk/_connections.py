"""The HTTP connections under a client's pool: httpx's own stack, minus one hazard.

httpx's `AsyncHTTPTransport` has no way to say "do not reuse this connection": bytes a server
sends past a response's declared end stay in httpcore's parser buffer, and the next request on
that kept-alive connection reads them as its answer (for a submission, after the Space has
queued the job: an orphan on its GPU). This module builds the same httpcore pool httpx would,
on a network backend whose streams follow each response's framing (`ResponseFraming`) and
report a connection that received a stray byte as readable, the state in which httpcore
discards an idle connection instead of reusing it. HTTP/2 frames its own streams, so its
connections are not followed; there, a response left before its end has its stream reset,
which httpcore leaves undone (`_release_h2_stream`).

The rest is httpx's default transport, vendored (httpx 0.28, ``_transports/default.py``):
request and response conversion, the exception mapping, and the proxies of the environment.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import ipaddress
import os
import ssl
import typing
from collections.abc import AsyncIterator, Generator, Iterable
from urllib.request import getproxies

import anyio
import httpcore
import httpx

from ._errors import MissingExtraError
from ._protocol import ResponseFraming

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _FramedStream(httpcore.AsyncNetworkStream):
    """A network stream that knows whether it may carry another request."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        # HTTP/2 frames its own streams; only HTTP/1.1 can leave bytes between responses.
        ssl_object = stream.get_extra_info("ssl_object")
        h2 = isinstance(ssl_object, ssl.SSLObject) and ssl_object.selected_alpn_protocol() == "h2"
        self._framing = None if h2 else ResponseFraming()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._stream.read(max_bytes, timeout)
        if self._framing is not None:
            self._framing.received(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._framing is not None:
            self._framing.sent(buffer)
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # A proxy's tunnel: the TLS stream inside carries its own responses.
        return _FramedStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> object:
        if info == "is_readable" and self._framing is not None and not self._framing.reusable:
            return True
        return self._stream.get_extra_info(info)


class _FramedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend (asyncio and trio alike), handing out `_FramedStream` s."""

    def __init__(self) -> None:
        # httpcore declares AnyIOBackend twice (a stand-in when anyio is missing, which it
        # never is here); the cast picks the real one's interface.
        self._backend = typing.cast(httpcore.AsyncNetworkBackend, httpcore.AnyIOBackend())

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _FramedStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return _FramedStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def check_proxy(proxy: str) -> None:
    """Refuse a proxy URL no transport can use, before any connection is made.

    Raises:
        ValueError: Its scheme is none of http, https, socks5, socks5h.
    """
    scheme = httpx.URL(proxy).scheme if "://" in proxy else ""
    if scheme not in _PROXY_SCHEMES:
        raise ValueError(
            f"proxy {proxy!r}: a proxy URL starts with http://, https://, socks5:// or socks5h://"
        )


_Pool = httpcore.AsyncConnectionPool | httpcore.AsyncHTTPProxy | httpcore.AsyncSOCKSProxy


Verify = ssl.SSLContext | str | bool
"""How a Space's TLS certificate is checked: True (the system's and certifi's CAs, or
``SSL_CERT_FILE``), a CA bundle's path, an `ssl.SSLContext`, or False (not at all)."""


@functools.lru_cache(maxsize=8)
def _ssl_context(
    verify: str | bool, http2: bool, cert_file: str | None, cert_dir: str | None
) -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds: once per process and setting, not
    # once per client or per event loop. The environment is part of the key, and so is
    # http2: httpcore sets the context's ALPN offer on every new connection, so clients that
    # differ in http2 and shared one context would race on what the next handshake offers.
    del http2, cert_file, cert_dir
    if isinstance(verify, str):
        # Only this CA (a corporate one, a test's): as httpx reads a bundle path, without its
        # deprecated verify=<str>.
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify)


def ssl_context(verify: Verify, *, http2: bool = False) -> ssl.SSLContext:
    """The TLS context for ``verify``, shared by every client that checks certificates so.

    One per ``http2`` setting too; a context the user gives is used as it is.

    Raises:
        ValueError: ``verify`` names a CA bundle that does not exist.
    """
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str) and not os.path.exists(verify):
        raise ValueError(f"verify={verify!r}: no CA bundle (file or directory) at that path")
    return _ssl_context(
        verify, http2, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    )


def check_http2(http2: bool) -> None:
    """Refuse ``http2=True`` before any connection when the ``h2`` package is missing.

    Raises:
        MissingExtraError: ``h2`` is not installed.
    """
    if http2 and importlib.util.find_spec("h2") is None:
        raise MissingExtraError("http2", "h2", "http2=True")


def _pool(
    proxy: httpx.Proxy | None, limits: httpx.Limits, ssl_context: ssl.SSLContext, http2: bool
) -> _Pool:
    # One constructor per kind of pool, each with the same limits and backend, as httpx's own
    # transport builds them: httpcore takes them by keyword, with its own types per class.
    backend = _FramedBackend()
    if proxy is None:
        return httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http2=http2,
            network_backend=backend,
        )
    url = httpcore.URL(
        scheme=proxy.url.raw_scheme,
        host=proxy.url.raw_host,
        port=proxy.url.port,
        target=proxy.url.raw_path,
    )
    if proxy.url.scheme in ("http", "https"):
        return httpcore.AsyncHTTPProxy(
            proxy_url=url,
            proxy_auth=proxy.raw_auth,
            proxy_headers=proxy.headers.raw,
            proxy_ssl_context=proxy.ssl_context,
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http2=http2,
            network_backend=backend,
        )
    if proxy.url.scheme in _PROXY_SCHEMES[2:]:
        if importlib.util.find_spec("socksio") is None:
            raise ImportError(
                "a SOCKS proxy needs the 'socksio' package: pip install 'httpx[socks]'"
            )
        return httpcore.AsyncSOCKSProxy(
            proxy_url=url,
            proxy_auth=proxy.raw_auth,
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http2=http2,
            network_backend=backend,
        )
    check_proxy(str(proxy.url))
    raise AssertionError("unreachable: check_proxy refuses every other scheme")


def _exception_map() -> dict[type[Exception], type[httpx.TransportError]]:
    return {
        httpcore.TimeoutException: httpx.TimeoutException,
        httpcore.ConnectTimeout: httpx.ConnectTimeout,
        httpcore.ReadTimeout: httpx.ReadTimeout,
        httpcore.WriteTimeout: httpx.WriteTimeout,
        httpcore.PoolTimeout: httpx.PoolTimeout,
        httpcore.NetworkError: httpx.NetworkError,
        httpcore.ConnectError: httpx.ConnectError,
        httpcore.ReadError: httpx.ReadError,
        httpcore.WriteError: httpx.WriteError,
        httpcore.ProxyError: httpx.ProxyError,
        httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
        httpcore.ProtocolError: httpx.ProtocolError,
        httpcore.LocalProtocolError: httpx.LocalProtocolError,
        httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    }


_EXCEPTIONS = _exception_map()


@contextlib.contextmanager
def _httpx_errors() -> Generator[None, None, None]:
    """Httpcore's exceptions as the httpx ones the rest of the SDK handles."""
    try:
        yield
    except Exception as exc:
        mapped: type[httpx.TransportError] | None = None
        for source, target in _EXCEPTIONS.items():
            # The most specific match: httpcore.ReadTimeout is httpx.ReadTimeout, not only a
            # TimeoutException.
            if isinstance(exc, source) and (mapped is None or issubclass(target, mapped)):
                mapped = target
        if mapped is None:
            raise
        raise mapped(str(exc)) from exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream
        self._ended = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._stream:
                yield part
        self._ended = True

    async def aclose(self) -> None:
        if not self._ended:
            await _release_h2_stream(self._stream)
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def _release_h2_stream(stream: object) -> None:
    """Reset an HTTP/2 response's stream left before its end, and return its unread bytes' window.

    httpcore 1.0 does neither (encode/httpcore#943, closed unfixed): the Space goes on sending
    the rest of a stream nobody reads (a job's events after its stream is left, an image after
    ``max_download_bytes``), those bytes are never acknowledged, and once they add up to the
    connection's receive window (16 MiB) every stream on that connection stalls, jobs included.
    A stream the Space never ends also stays open in h2's count until 100 of them refuse every
    new request. Over HTTP/1.1 httpcore closes such a connection, which says the same to the
    Space; over HTTP/2 it is this RST_STREAM.

    httpcore has no public handle on the h2 state (the reason its fix was never merged): this
    reaches for the few attributes it needs and does nothing if any has changed.
    """
    inner = getattr(stream, "_stream", None)  # the pool's wrapper, around the connection's
    connection: typing.Any = getattr(inner, "_connection", None)
    request = getattr(inner, "_request", None)
    stream_id = getattr(inner, "_stream_id", None)
    if not (
        isinstance(connection, httpcore.AsyncHTTP2Connection)
        and isinstance(request, httpcore.Request)
        and isinstance(stream_id, int)
    ):
        return
    import h2.errors
    import h2.events

    state: typing.Any = getattr(connection, "_h2_state", None)
    events: typing.Any = getattr(connection, "_events", None)
    if state is None or not isinstance(events, dict):
        return
    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
        queued = typing.cast("dict[int, list[object]]", events).get(stream_id, [])
        unread = sum(
            event.flow_controlled_length or 0
            for event in queued
            if isinstance(event, h2.events.DataReceived)
        )
        if unread:
            state.acknowledge_received_data(unread, stream_id)
        h2_stream = state.streams.get(stream_id)
        if h2_stream is not None and not h2_stream.closed:
            # Bytes still in flight after this reach a closed stream: h2 returns their window.
            state.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
        await connection._write_outgoing_data(request)  # pyright: ignore[reportPrivateUsage]


class FramedTransport(httpx.AsyncBaseTransport):
    """httpx's default async transport, whose connections are reused only when clean."""

    def __init__(
        self,
        *,
        proxy: str | None = None,
        limits: httpx.Limits,
        verify: Verify = True,
        http2: bool = False,
    ) -> None:
        proxy_url = httpx.Proxy(proxy) if proxy else None
        self.limits = limits
        """The pool's limits (connections, kept-alive ones, their expiry)."""
        self._pool = _pool(proxy_url, limits, ssl_context(verify, http2=http2), http2)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = await self._pool.handle_async_request(core_request)
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            # httpcore types them partly unknown: a plain mapping of names to values.
            extensions=response.extensions,  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


def environment_mounts(
    limits: httpx.Limits, *, verify: Verify = True, http2: bool = False
) -> dict[str, httpx.AsyncBaseTransport | None]:
    """The proxies of the environment (``HTTPS_PROXY``, ``NO_PROXY``…) as httpx mounts.

    httpx reads them only when it builds its own transport; this is its reading (``curl``'s
    ``NO_PROXY`` rules), with each proxy on a `FramedTransport`. A host without a proxy maps
    to None: the client's own transport.
    """
    found = getproxies()
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for scheme in ("http", "https", "all"):
        url = found.get(scheme)
        if url:
            proxy = url if "://" in url else f"http://{url}"
            mounts[f"{scheme}://"] = FramedTransport(
                proxy=proxy, limits=limits, verify=verify, http2=http2
            )
    for host in (part.strip() for part in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if host:
            mounts[_no_proxy_pattern(host)] = None
    return mounts


def _no_proxy_pattern(host: str) -> str:
    if "://" in host:
        return host
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(host.split("/", 1)[0])
        return f"all://[{host}]" if address.version == 6 else f"all://{host}"
    if host.lower() == "localhost":
        return f"all://{host}"
    # curl's rule: ".example.com" and "example.com" both cover www.example.com.
    return f"all://*{host}"


__all__ = [
    "FramedTransport",
    "Verify",
    "check_http2",
    "check_proxy",
    "environment_mounts",
    "ssl_context",
]
