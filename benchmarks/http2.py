"""HTTP/1.1 against HTTP/2 over TLS: connections opened and wall time for 20 jobs in flight.

``python -m benchmarks.http2`` (``nox -s bench`` runs it after `benchmarks.run`). The Space's
real Gradio replica (zero-cost ``infer``, no concurrency limit) is served over TLS by hypercorn,
which offers ``h2`` by ALPN, with a certificate from a CA made for the run. The server is
`tests._h2space`, the repository's one HTTP/2 server program: the benchmark runs the server the
tests run rather than a copy of it. Clients reach it through a `DelayProxy`, directly (0 ms) and
with ``--rtt-ms`` (100 by default, as in `benchmarks.network`) per round trip and one more per
new connection for TCP's handshake; TLS's own round trip is real, through the relay.

Each measurement is one batch of ``--jobs`` jobs started at once, each joining, streaming and
downloading its image, on ``AsyncFluxClient`` (tasks) or ``FluxClient`` (a thread per job), with
``http2=False`` and ``http2=True``. A *cold* batch is a new client's first (its connections
and TLS handshakes included); a *warm* batch is the same client's second. The four clients
take turns within each round, for ``--rounds`` rounds; medians are reported. The relay counts
the connections; the server's log confirms the HTTP version of every request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio
import trustme

from flux_sdk import AsyncFluxClient, FluxClient, Timeout
from tests._h2space import H2Space

from ._delay import DelayProxy

RESULTS = Path(__file__).resolve().parent / "results"
TIMEOUT = Timeout(connect=30, idle=60, total=120, cancel=5)
CLIENTS = ("async", "sync")


@dataclass(frozen=True)
class Batch:
    """One batch of jobs in flight, as measured."""

    client: str
    http2: bool
    rtt_ms: float
    warm: bool
    wall: float
    connections: int
    versions: list[str]


def _measure(
    space: H2Space,
    proxy: DelayProxy,
    client: str,
    http2: bool,
    jobs: int,
) -> list[Batch]:
    """A cold and a warm batch on a new client of kind ``client``, through ``proxy``."""
    url = proxy.url.replace("http://", "https://")
    batches: list[Batch] = []
    marks = [proxy.mark()]
    space.forget()

    def record(warm: bool, wall: float, done: int) -> None:
        if done != jobs:
            raise RuntimeError(f"{done} of {jobs} jobs finished")
        counts = proxy.counts() - marks[-1]
        versions = sorted({row.http_version for row in space.seen()})
        space.forget()
        batches.append(
            Batch(client, http2, proxy.rtt * 1000, warm, wall, counts.connections, versions)
        )
        marks.append(proxy.mark())

    if client == "async":

        async def main() -> None:
            async with AsyncFluxClient(
                url, token="", timeout=TIMEOUT, verify=space.ca_bundle, http2=http2
            ) as flux:
                for warm in (False, True):
                    sizes: list[int] = []

                    async def one(index: int, sizes: list[int] = sizes) -> None:
                        generation = await flux.generate(f"fox {index}")
                        sizes.append(len(await flux.download(generation)))

                    started = time.perf_counter()
                    async with anyio.create_task_group() as group:
                        for index in range(jobs):
                            group.start_soon(one, index)
                    wall = time.perf_counter() - started
                    await anyio.to_thread.run_sync(record, warm, wall, len(sizes))

        anyio.run(main)
    else:
        with (
            FluxClient(url, token="", timeout=TIMEOUT, verify=space.ca_bundle, http2=http2) as flux,
            ThreadPoolExecutor(jobs) as threads,
        ):

            def one(index: int) -> int:
                return len(flux.download(flux.generate(f"fox {index}")))

            for warm in (False, True):
                started = time.perf_counter()
                done = len(list(threads.map(one, range(jobs))))
                record(warm, time.perf_counter() - started, done)
    return batches


def _table(batches: list[Batch], rounds: int) -> str:
    rows = [
        "| client | RTT | batch | HTTP/1.1 connections | HTTP/2 connections "
        "| HTTP/1.1 wall (s) | HTTP/2 wall (s) | HTTP/2 ÷ HTTP/1.1 wall |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    keys = sorted({(b.rtt_ms, b.client, b.warm) for b in batches})
    for rtt_ms, client, warm in keys:
        cell: dict[bool, tuple[float, float]] = {}
        for http2 in (False, True):
            chosen = [
                b
                for b in batches
                if (b.rtt_ms, b.client, b.warm, b.http2) == (rtt_ms, client, warm, http2)
            ]
            cell[http2] = (
                statistics.median(b.connections for b in chosen),
                statistics.median(b.wall for b in chosen),
            )
        ratio = cell[True][1] / cell[False][1]
        rows.append(
            f"| `{'AsyncFluxClient' if client == 'async' else 'FluxClient'}` | {rtt_ms:g} ms "
            f"| {'warm' if warm else 'cold'} | {cell[False][0]:g} | {cell[True][0]:g} "
            f"| {cell[False][1]:.3f} | {cell[True][1]:.3f} | {ratio:.2f} |"
        )
    return "\n".join(rows) + f"\n\nMedians of {rounds} rounds; the four clients take turns.\n"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http2", description=__doc__)
    parser.add_argument("--server-python", default=sys.executable, help="has gradio, hypercorn")
    parser.add_argument("--jobs", type=int, default=20, help="jobs in flight per batch (20)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the four clients (5)")
    parser.add_argument("--rtt-ms", type=float, default=100.0, help="the relay's round trip (100)")
    parser.add_argument("--quick", action="store_true", help="2 rounds: a smoke run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; print the table and write ``results/http2.{json,md}``."""
    args = _parse(argv)
    rounds = 2 if args.quick else args.rounds
    batches: list[Batch] = []
    with H2Space(trustme.CA(), python=args.server_python, scale=4, faults=False) as space:
        upstream = space.url.replace("https://", "http://")
        for rtt_ms in (0.0, args.rtt_ms):
            with DelayProxy(upstream, rtt=rtt_ms / 1000, handshakes=1) as proxy:
                # One untimed batch of each: bytecode, Gradio's first requests, the TLS context.
                for client in CLIENTS:
                    _measure(space, proxy, client, True, args.jobs)
                for _ in range(rounds):
                    for client in CLIENTS:
                        for http2 in (False, True):
                            batches += _measure(space, proxy, client, http2, args.jobs)
    wrong = [b for b in batches if b.versions != (["2"] if b.http2 else ["1.1"])]
    if wrong:
        raise RuntimeError(f"a batch ran on the wrong HTTP version: {wrong[0]}")
    table = _table(batches, rounds)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "http2.json").write_text(json.dumps([asdict(b) for b in batches], indent=1))
    (RESULTS / "http2.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
