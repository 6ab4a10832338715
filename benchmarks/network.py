"""The network phase of ``nox -s bench``: round trips, connections and cold starts.

Every client talks to one zero-cost replica through a `DelayProxy` of its own (a round trip of
``--rtt-ms``, ``--handshakes`` more per new connection), so that loopback costs what a network
does, and the relay counts what the client does on it.

- **Warm jobs**: a worker (`benchmarks.worker`) per client, warmed up, runs jobs that also
  fetch their image (join, stream, file), in blocks that alternate between the proxy without
  delay and with it. Per job: the round trips *counted* (turns + handshakes × new
  connections, see `benchmarks._delay`), connections opened, and the round trips *from wall
  time*, (median delayed − median undelayed) / RTT, paired so the local work cancels out.
- **Cold processes**: one job in a fresh process (`benchmarks.oneshot`, or the ``flux
  generate`` CLI), run in turns: the process wall time against the replica directly (median of
  ``--cold-runs``), and its round trips and connections counted through the proxy. A first,
  untimed run of each warms the bytecode caches and any discovery cache (in a temporary
  ``XDG_CACHE_HOME``); its counts are kept as ``first``.
- **Profile** of ``flux generate``: ``python -X importtime`` (the heaviest top-level imports)
  and cProfile (``results/profile-cli.txt``).
"""

from __future__ import annotations

import json
import os
import pstats
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from ._delay import Counts, DelayProxy
from ._driver import Worker, WorkerError

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 300.0
COLD_TIMEOUT = 120.0
PROMPT = "benchmark"


@dataclass(frozen=True)
class NetClient:
    """One row of the network table."""

    key: str
    label: str
    worker: str | None
    """Module under ``benchmarks.clients`` for warm jobs; None: cold only (the CLI)."""
    protocol: str
    cold: str
    """`benchmarks.oneshot`'s KIND, or ``cli`` for ``flux generate``."""
    floor: str | None
    """The key of the floor whose cold wall this row's is compared with; None for a floor."""


NET_CLIENTS: tuple[NetClient, ...] = (
    NetClient("floor-queue", "floor: hand-written httpx", "raw_sync", "queue", "httpx-queue",
              None),
    NetClient("floor-call", "floor: hand-written httpx", "raw_sync", "call", "httpx-call", None),
    NetClient("flux-sync-queue", "flux_sdk FluxClient", "flux_sync", "queue", "flux-sync-queue",
              "floor-queue"),
    NetClient("flux-sync-call", "flux_sdk FluxClient", "flux_sync", "call", "flux-sync-call",
              "floor-call"),
    NetClient("flux-async-queue", "flux_sdk AsyncFluxClient", "flux_async", "queue",
              "flux-async-queue", "floor-queue"),
    NetClient("flux-async-call", "flux_sdk AsyncFluxClient", "flux_async", "call",
              "flux-async-call", "floor-call"),
    NetClient("flux-cli", "`flux generate` (CLI)", None, "queue", "cli", "floor-queue"),
    NetClient("gradio_client", "gradio_client Client.predict", "gradio_client_sync", "queue",
              "gradio-client", "floor-queue"),
    NetClient("g4f-aiohttp", "gpt4free request logic (aiohttp)", "g4f_aiohttp", "call", "g4f",
              "floor-call"),
)  # fmt: skip

FLOORS = {"warm": 3, "cold": 5, "cold_with_config": 6}
"""Round trips: a warm job is join (or POST), stream, file on a kept-alive connection; a cold
process adds its connection's handshakes (2), and ``GET /config`` if it discovers."""


@dataclass(frozen=True)
class Settings:
    rtt: float
    handshakes: int
    warm_jobs: int
    block: int
    cold_runs: int


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _total(parts: list[Counts]) -> Counts:
    zero = Counts(0, 0, 0, 0, 0, 0)
    total = zero
    for part in parts:
        total = total - (zero - part)
    return total


def _per_job(counts: Counts, jobs: int, handshakes: int) -> dict[str, float]:
    jobs = max(jobs, 1)
    return {
        "round_trips": (counts.turns + handshakes * counts.connections) / jobs,
        "turns": counts.turns / jobs,
        "connections": counts.connections / jobs,
    }


def _warm(
    client: NetClient,
    upstream: str,
    settings: Settings,
    env: Mapping[str, str],
    workdir: Path,
    tag: str,
) -> dict[str, Any]:
    assert client.worker is not None
    out = workdir / f"net{tag}-{client.key}.json"
    with DelayProxy(upstream, rtt=0.0, handshakes=settings.handshakes) as proxy:
        command = [
            sys.executable, "-m", "benchmarks.worker", "--client", client.worker,
            "--protocol", client.protocol, "--url", proxy.url, "--warmup", "0",
            "--out", str(out),
        ]  # fmt: skip
        worker = Worker(client.key, command, cwd=ROOT, env=env, log=workdir / f"{out.stem}.log")
        done = False
        try:
            worker.expect("ready", WORKER_TIMEOUT)
            # Discovery, connections, the first file: what a warm client has already done.
            worker.send("files 3 warmup", WORKER_TIMEOUT)
            delayed: list[Counts] = []
            remaining = settings.warm_jobs
            while remaining > 0:
                block = min(settings.block, remaining)
                proxy.rtt = 0.0
                worker.send(f"files {block} direct", WORKER_TIMEOUT)
                proxy.rtt = settings.rtt
                before = proxy.mark()
                worker.send(f"files {block} delayed", WORKER_TIMEOUT)
                delayed.append(proxy.counts() - before)
                remaining -= block
            worker.send("end", WORKER_TIMEOUT)
            done = True
        finally:
            worker.close(grace=10.0 if done else 0.0)
    walls = json.loads(out.read_text())["file_walls"]
    direct, slow = statistics.median(walls["direct"]), statistics.median(walls["delayed"])
    counts = _total(delayed)
    return {
        **_per_job(counts, settings.warm_jobs, settings.handshakes),
        "round_trips_from_wall": (slow - direct) / settings.rtt if settings.rtt else None,
        "median_direct_ms": direct * 1e3,
        "median_delayed_ms": slow * 1e3,
        "counts": asdict(counts),
        "jobs": settings.warm_jobs,
    }


def _cold_command(client: NetClient, url: str, out: Path, fn_index: int) -> list[str]:
    if client.cold == "cli":
        script = Path(sys.executable).parent / "flux"
        start = [str(script)] if script.exists() else [sys.executable, "-m", "flux_sdk._cli"]
        return [
            *start, "generate", PROMPT, "--url", url, "--seed", "1", "--width", "1024",
            "--height", "1024", "--steps", "1", "--protocol", client.protocol, "-o", str(out),
        ]  # fmt: skip
    command = [sys.executable, "-m", "benchmarks.oneshot", client.cold, url, str(out)]
    return command + ([str(fn_index)] if client.cold == "httpx-queue" else [])


@dataclass(frozen=True)
class ColdRun:
    wall: float
    cpu: float
    """The process's user + system CPU seconds, all its threads (``wait4``'s rusage)."""
    steps: dict[str, float]


def _run_cold(command: list[str], env: Mapping[str, str], scratch: Path) -> ColdRun:
    out, err = scratch / "stdout", scratch / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=stdout, stderr=stderr)
        # wait4, not wait: the child's own CPU time, which a loaded machine disturbs far less
        # than its wall time.
        killer = threading.Timer(COLD_TIMEOUT, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = err.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"{command[:4]} exited {process.returncode}: {tail}")
    steps: dict[str, float] = {}
    lines = out.read_text().strip().splitlines()
    if lines and lines[-1].startswith("{"):
        steps = json.loads(lines[-1])
    return ColdRun(wall=wall, cpu=usage.ru_utime + usage.ru_stime, steps=steps)


def _cold(
    clients: list[NetClient],
    upstream: str,
    settings: Settings,
    env: Mapping[str, str],
    workdir: Path,
    fn_index: int,
) -> dict[str, dict[str, Any]]:
    images = workdir / "cold"
    images.mkdir(exist_ok=True)
    walls: dict[str, list[float]] = {c.key: [] for c in clients}
    cpus: dict[str, list[float]] = {c.key: [] for c in clients}
    steps: dict[str, list[dict[str, float]]] = {c.key: [] for c in clients}
    delayed_walls: dict[str, list[float]] = {c.key: [] for c in clients}
    counts: dict[str, list[Counts]] = {c.key: [] for c in clients}
    first: dict[str, Counts] = {}
    failed: dict[str, str] = {}
    with ExitStack() as stack:
        proxies = {
            c.key: stack.enter_context(
                DelayProxy(upstream, rtt=settings.rtt, handshakes=settings.handshakes)
            )
            for c in clients
        }

        def run(client: NetClient, url: str, tag: str) -> ColdRun:
            out = images / f"{client.key}-{tag}.webp"
            return _run_cold(_cold_command(client, url, out, fn_index), env, workdir)

        def each(order: list[NetClient], body: Callable[[NetClient], None]) -> None:
            for client in order:
                if client.key in failed:
                    continue
                try:
                    body(client)
                except (RuntimeError, OSError) as exc:
                    failed[client.key] = str(exc)[-1500:]
                    _log(f"  cold {client.key} failed: {str(exc)[-300:]}")

        def warm_up(client: NetClient) -> None:
            run(client, upstream, "first-direct")
            proxy = proxies[client.key]
            before = proxy.mark()
            run(client, proxy.url, "first-delayed")
            first[client.key] = proxy.counts() - before

        each(clients, warm_up)
        for index in range(settings.cold_runs):
            # ABBA: alternate the order, so drift in the background load evens out.
            order = clients if index % 2 == 0 else clients[::-1]

            def direct(client: NetClient, index: int = index) -> None:
                done = run(client, upstream, f"{index}")
                walls[client.key].append(done.wall)
                cpus[client.key].append(done.cpu)
                steps[client.key].append(done.steps)

            def delayed(client: NetClient, index: int = index) -> None:
                proxy = proxies[client.key]
                before = proxy.mark()
                done = run(client, proxy.url, f"{index}-delayed")
                delayed_walls[client.key].append(done.wall)
                counts[client.key].append(proxy.counts() - before)

            each(order, direct)
            each(order, delayed)
    results: dict[str, dict[str, Any]] = {}
    for client in clients:
        if client.key in failed:
            results[client.key] = {"failed": failed[client.key]}
            continue
        runs = counts[client.key]
        per_run = [_per_job(c, 1, settings.handshakes) for c in runs]
        step_names = steps[client.key][0].keys() if steps[client.key] else ()
        results[client.key] = {
            "wall_s": statistics.median(walls[client.key]),
            "walls_s": walls[client.key],
            "cpu_s": statistics.median(cpus[client.key]),
            "cpus_s": cpus[client.key],
            "delayed_wall_s": statistics.median(delayed_walls[client.key]),
            "round_trips": statistics.median(r["round_trips"] for r in per_run),
            "round_trips_range": [
                min(r["round_trips"] for r in per_run),
                max(r["round_trips"] for r in per_run),
            ],
            "connections": statistics.median(r["connections"] for r in per_run),
            "turns": statistics.median(r["turns"] for r in per_run),
            "first": _per_job(first[client.key], 1, settings.handshakes),
            "steps_s": {
                name: statistics.median(s.get(name, 0.0) for s in steps[client.key])
                for name in step_names
            },
        }
    return results


def _fn_index(url: str) -> int:
    with urllib.request.urlopen(f"{url}/config", timeout=30) as response:
        config: dict[str, Any] = json.loads(response.read())
    return next(int(d["id"]) for d in config["dependencies"] if d.get("api_name") == "infer")


def _importtime(command: list[str], env: Mapping[str, str], top: int = 12) -> dict[str, Any]:
    """``-X importtime`` of ``command``: import time by package, and flux_sdk's own modules.

    Self times (each module's own, its imports excluded) add up to the whole, so grouping them
    by top-level package says where the import time goes.
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=COLD_TIMEOUT,
    )  # fmt: skip
    by_package: dict[str, int] = {}
    ours: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        # "import time: SELF | CUMULATIVE | NAME", NAME indented two spaces per level.
        fields = line.removeprefix("import time:").split("|")
        name, own = fields[2].strip(), int(fields[0])
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0) + own
        if package == "flux_sdk":
            ours.append((own, name))
    heaviest = sorted(by_package.items(), key=lambda e: -e[1])[:top]
    return {
        "total_ms": sum(by_package.values()) / 1e3,
        "by_package": [{"package": n, "self_ms": us / 1e3} for n, us in heaviest],
        "flux_sdk_modules": [
            {"module": n, "self_ms": us / 1e3} for us, n in sorted(ours)[::-1][:8]
        ],
    }


def _profile(
    upstream: str, env: Mapping[str, str], workdir: Path, results_dir: Path
) -> dict[str, Any]:
    cli = NET_CLIENTS[[c.key for c in NET_CLIENTS].index("flux-cli")]
    command = _cold_command(cli, upstream, workdir / "profile.webp", 0)
    # The console script, or ``-m flux_sdk._cli``: either is what follows ``python``.
    script = command[1:] if command[0] == sys.executable else command
    importtime = _importtime(script, env)
    stats_file = workdir / "cli.prof"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats_file), *script],
        cwd=ROOT, env=dict(env), capture_output=True, check=True, timeout=COLD_TIMEOUT,
    )  # fmt: skip
    text = results_dir / "profile-cli.txt"
    with text.open("w") as stream:
        stream.write(
            "# cProfile of `flux generate` against the zero-cost replica (no delay)\n"
            f"# {' '.join(['flux', *script[1:]])}\n"
            "# python -X importtime, self time by top-level package (ms):\n"
        )
        for entry in importtime["by_package"]:
            stream.write(f"#   {entry['self_ms']:8.1f}  {entry['package']}\n")
        stream.write(f"#   {importtime['total_ms']:8.1f}  all imports\n# flux_sdk's modules:\n")
        for entry in importtime["flux_sdk_modules"]:
            stream.write(f"#   {entry['self_ms']:8.1f}  {entry['module']}\n")
        stream.write("\n")
        stats = pstats.Stats(str(stats_file), stream=stream)
        stats.sort_stats("cumulative").print_stats(45)
    stats = pstats.Stats(str(stats_file))
    # pstats keys each function as (file, line, name): (calls, primitive calls, own, cumulative,
    # callers); typeshed leaves the attribute out.
    raw = cast(
        "dict[tuple[str, int, str], tuple[int, int, float, float, object]]",
        stats.stats,  # type: ignore[attr-defined]
    )
    imports = 0.0
    ours: list[tuple[float, str]] = []
    for (filename, line, name), (_cc, _nc, _tt, cumulative, _callers) in raw.items():
        if name == "_find_and_load":
            imports = max(imports, cumulative)
        elif "flux_sdk" in filename and name != "<module>":
            where = filename[filename.rindex("flux_sdk") :]
            ours.append((cumulative, f"{where}:{line}({name})"))
    # The CLI's own calls, outermost first: where the time goes after the imports, whatever
    # the CLI's structure at the measured commit.
    heaviest = [{"function": f, "cumulative_s": c} for c, f in sorted(ours, reverse=True)[:10]]
    total = max((entry[3] for entry in raw.values()), default=0.0)
    return {
        "importtime": importtime,
        "cprofile": {"total_s": total, "imports_s": imports, "flux_sdk_heaviest": heaviest},
        "file": text.name,
    }


def run(
    upstream: str,
    settings: Settings,
    env: Mapping[str, str],
    workdir: Path,
    results_dir: Path,
    keys: set[str] | None = None,
) -> dict[str, Any]:
    """The whole network phase against the replica at ``upstream``."""
    env = _cached(env, workdir)
    clients = [c for c in NET_CLIENTS if keys is None or c.key in keys]
    warm = warm_phase(upstream, settings, env, workdir, keys)
    cold = _cold(clients, upstream, settings, env, workdir, _fn_index(upstream))
    for key, entry in cold.items():
        _log(f"  cold {key}: {_short(entry)}")
    profile: dict[str, Any]
    try:
        profile = _profile(upstream, env, workdir, results_dir)
    except (subprocess.SubprocessError, OSError) as exc:
        profile = {"failed": str(exc)[-1500:]}
    return {
        "settings": {**asdict(settings), "rtt_ms": settings.rtt * 1e3},
        "floors": FLOORS,
        "clients": [asdict(c) for c in clients],
        "warm": warm,
        "cold": cold,
        "profile": profile,
    }


def _cached(env: Mapping[str, str], workdir: Path) -> dict[str, str]:
    # A cache directory of the run's own: whatever a client caches per Space stays out of the
    # user's, and lives as long as the run (so later cold runs see what earlier ones cached).
    return {**env, "XDG_CACHE_HOME": str(workdir / "cache")}


def warm_phase(
    upstream: str,
    settings: Settings,
    env: Mapping[str, str],
    workdir: Path,
    keys: set[str] | None = None,
    tag: str = "",
) -> dict[str, Any]:
    """Warm jobs of every client with a worker, each through a proxy of its own."""
    env = _cached(env, workdir)
    warm: dict[str, Any] = {}
    for client in NET_CLIENTS:
        if client.worker is None or (keys is not None and client.key not in keys):
            continue
        try:
            warm[client.key] = _warm(client, upstream, settings, env, workdir, tag)
        except (WorkerError, KeyError, OSError) as exc:
            warm[client.key] = {"failed": str(exc)[-1500:]}
        _log(f"  warm{tag} {client.key}: {_short(warm[client.key])}")
    return warm


def _short(entry: Mapping[str, Any]) -> str:
    if "failed" in entry:
        return "failed: " + str(entry["failed"])[-200:]
    parts = [f"{entry['round_trips']:.2f} RT", f"{entry['connections']:.2f} conn"]
    if entry.get("round_trips_from_wall") is not None:
        parts.append(f"{entry['round_trips_from_wall']:.2f} RT from wall")
    if "wall_s" in entry:
        parts.append(f"wall {entry['wall_s'] * 1e3:.0f} ms")
    return ", ".join(parts)
