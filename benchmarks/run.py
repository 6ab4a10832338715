"""Orchestrator: ``python -m benchmarks.run`` (normally through ``nox -s bench``).

Starts a fresh Gradio 6 replica of the Space per client (zero-cost ``infer``), runs each client
in its own subprocess (`benchmarks.worker`), times cold imports, runs the streamed-save memory
check, measures round trips and cold starts through a delay proxy (`benchmarks.network`), and
writes ``benchmarks/results/latest.json`` and ``latest.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from flux_sdk.local import LocalSpace

from . import _report, network
from ._driver import Worker, WorkerError
from ._fileserver import FileServer
from ._imports import deps_as_loaded, time_import
from ._specs import DEPS_IMPORT, FLUX_IMPORT, FLUX_USE_IMPORT, SPECS, Spec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SAVE_SIZE = 20 * 1024 * 1024
WARM_SIZE = 256 * 1024
WORKER_TIMEOUT = 600.0
PACKAGES = (
    "flux-sdk", "httpx", "httpcore", "httpx-sse", "pydantic", "pydantic-core", "anyio",
    "gradio_client", "huggingface-hub", "aiohttp",
)  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--jobs", type=int, help="sequential jobs per client (200; quick 50)")
    parser.add_argument("--warmup", type=int, help="warm-up jobs per client (10; quick 3)")
    parser.add_argument(
        "--inflight", default="50,500", help="in-flight levels for throughput (async clients)"
    )
    parser.add_argument(
        "--sync-inflight",
        default="50",
        help="in-flight levels for sync clients, one thread per job in flight (50: see "
        "docs/performance.md; 50,500 also works)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="throughput jobs per measurement = rounds x in-flight, at least --min-jobs (1)",
    )
    parser.add_argument(
        "--block", type=int, default=10, help="sequential jobs per turn (clients alternate)"
    )
    parser.add_argument("--min-jobs", type=int, help="(300; quick 100)")
    parser.add_argument(
        "--tp-repeats",
        type=int,
        help="throughput measurements per client and level, each on a fresh server, in "
        "alternating order; the median is reported (2; quick 1)",
    )
    parser.add_argument(
        "--import-runs", type=int, help="fresh interpreters per import (9; quick 3)"
    )
    parser.add_argument("--clients", help="comma-separated keys: " + ",".join(s.key for s in SPECS))
    parser.add_argument("--server-python", default=os.environ.get("FLUX_BENCH_SERVER_PYTHON"))
    parser.add_argument("--concurrency-limit", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--network",
        choices=("on", "off", "only"),
        default="on",
        help="the delay-proxy phase: round trips, connections, cold starts (on)",
    )
    parser.add_argument("--rtt-ms", type=float, default=100.0, help="the proxy's round trip (100)")
    parser.add_argument(
        "--handshakes", type=int, default=2, help="round trips a new connection costs (2)"
    )
    parser.add_argument("--net-jobs", type=int, help="delayed warm jobs per client (10; quick 4)")
    parser.add_argument(
        "--cold-runs", type=int, help="fresh processes per cold client, timed (7; quick 3)"
    )
    parser.add_argument("--net-clients", help="comma-separated keys of the network phase")
    parser.add_argument(
        "--work-ms",
        type=float,
        help="warm jobs again on a replica whose job takes this long, so the stream's round "
        "trip can hide under the work (150, more than the RTT; quick 0: skipped)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.jobs = args.jobs if args.jobs is not None else (50 if quick else 200)
    args.warmup = args.warmup if args.warmup is not None else (3 if quick else 10)
    args.rounds = args.rounds if args.rounds is not None else 1
    args.min_jobs = args.min_jobs if args.min_jobs is not None else (100 if quick else 300)
    args.tp_repeats = args.tp_repeats if args.tp_repeats is not None else (1 if quick else 2)
    args.import_runs = args.import_runs if args.import_runs is not None else (3 if quick else 9)
    args.net_jobs = args.net_jobs if args.net_jobs is not None else (4 if quick else 10)
    args.cold_runs = args.cold_runs if args.cold_runs is not None else (3 if quick else 7)
    args.work_ms = args.work_ms if args.work_ms is not None else (0.0 if quick else 150.0)
    if not args.server_python:
        default = ROOT / ".nox" / "gradio-6" / "bin" / "python"
        if not default.exists():
            parser.error("--server-python (a Gradio 6 interpreter) is required")
        args.server_python = str(default)
    return args


@dataclass(frozen=True)
class Plan:
    """What each client of one mode runs."""

    warmup: int
    sequential: int
    block: int
    inflight: list[int]
    throughput_jobs: dict[int, int]


def _levels(text: str) -> list[int]:
    return [int(level) for level in text.split(",") if level.strip()]


def _plan(args: argparse.Namespace, mode: str) -> Plan:
    levels = _levels(args.sync_inflight if mode == "sync" else args.inflight)
    return Plan(
        warmup=args.warmup,
        sequential=args.jobs,
        block=args.block,
        inflight=levels,
        throughput_jobs={c: max(args.min_jobs, args.rounds * c) for c in levels},
    )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Imports must read bytecode caches, as an installed package's do (pip compiles them).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        NO_PROXY="*",
        no_proxy="*",
        PYTHONPATH=str(ROOT),
    )
    return env


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _git_state() -> str:
    """The commit the measured flux_sdk comes from, and whether its files differ from it."""

    def git(*words: str) -> str:
        done = subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "flux_sdk")
    return f"{commit}{' + uncommitted changes' if dirty else ''}"


def _machine(server_version: str | None) -> dict[str, Any]:
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "flux_sdk_source": _git_state(),
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "server_gradio": server_version,
        "packages": versions,
    }


def _groups(specs: list[Spec]) -> list[list[Spec]]:
    """Each floor with the clients measured against it, in `SPECS` order."""
    groups: dict[str, list[Spec]] = {}
    for spec in specs:
        groups.setdefault(spec.floor or spec.key, []).append(spec)
    return list(groups.values())


def _space(args: argparse.Namespace, step_delay: float = 0.0) -> LocalSpace:
    return LocalSpace(
        python=args.server_python,
        scale=64,
        step_delay=step_delay,
        concurrency_limit=args.concurrency_limit,
    )


def _run_group(group: list[Spec], args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The group's workers take turns on one server, then each throughput figure gets its own."""
    results: dict[str, Any] = {}
    plans = {spec.key: _plan(args, spec.mode) for spec in group}
    workers: list[Worker] = []
    try:
        with _space(args) as space:
            for spec in group:
                plan = plans[spec.key]
                command = [
                    sys.executable, "-m", "benchmarks.worker",
                    "--client", spec.module, "--protocol", spec.protocol, "--url", space.url,
                    "--warmup", str(plan.warmup), "--out", str(workdir / f"{spec.key}.json"),
                ]  # fmt: skip
                log = workdir / f"{spec.key}.log"
                workers.append(Worker(spec.key, command, cwd=ROOT, env=_env(), log=log))
            for worker in workers:
                worker.expect("ready", WORKER_TIMEOUT)
            # Sequential jobs in small blocks, round robin: every client sees the same server
            # state and the same background load, so the ratios are paired.
            remaining = args.jobs
            while remaining > 0:
                block = min(args.block, remaining)
                for worker in workers:
                    worker.send(f"seq {block}", WORKER_TIMEOUT)
                remaining -= block
            server_version = space.gradio_version
        # Throughput: a fresh server for every figure (Gradio slows down as it serves deep
        # queues, so a shared one would favour whoever goes first).
        levels = sorted({c for plan in plans.values() for c in plan.inflight})
        for level in levels:
            for repeat in range(args.tp_repeats):
                # ABBA...: alternate the order, so drift in the background load evens out.
                for worker in workers if repeat % 2 == 0 else workers[::-1]:
                    plan = plans[worker.key]
                    if level not in plan.inflight:
                        continue
                    with _space(args) as space:
                        order = f"tp {level} {plan.throughput_jobs[level]} {space.url}"
                        worker.send(order, WORKER_TIMEOUT)
            _log(f"  {level} in flight done")
        for worker in workers:
            worker.send("end", WORKER_TIMEOUT)
            results[worker.key] = json.loads((workdir / f"{worker.key}.json").read_text())
            results[worker.key]["server_gradio"] = server_version
    except WorkerError as exc:
        for spec in group:
            results.setdefault(spec.key, {"failed": str(exc)})
    finally:
        for worker in workers:
            worker.close(grace=10.0 if worker.key in results else 0.0)
    return results


def _imports(args: argparse.Namespace, specs: list[Spec]) -> dict[str, Any]:
    env = _env()
    python = sys.executable
    statements = {spec.imports for spec in specs} | {DEPS_IMPORT, FLUX_IMPORT, FLUX_USE_IMPORT}
    times = {stmt: time_import(python, stmt, args.import_runs, env) for stmt in sorted(statements)}
    loaded = deps_as_loaded(python, FLUX_USE_IMPORT, env)
    as_loaded = time_import(python, loaded, args.import_runs, env)
    as_loaded["statement"] = f"every non-flux_sdk module that `{FLUX_USE_IMPORT}` loads"
    return {"by_statement": times, "flux_sdk_deps_as_loaded": as_loaded}


def _save_check(workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with FileServer() as files:
        for client in ("raw_sync", "flux_sync", "flux_async"):
            target = workdir / f"save-{client}"
            target.mkdir()
            out = workdir / f"save-{client}.json"
            command = [
                sys.executable, "-m", "benchmarks.save_check", "--client", client,
                "--big", files.url(SAVE_SIZE), "--small", files.url(WARM_SIZE),
                "--dir", str(target), "--out", str(out),
            ]  # fmt: skip
            done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True)
            if done.returncode != 0:
                results[client] = {"failed": done.stderr[-2000:]}
            else:
                results[client] = json.loads(out.read_text())
    return {"size_mb": SAVE_SIZE / 2**20, "clients": results}


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    wanted = set(args.clients.split(",")) if args.clients else None
    specs = [spec for spec in SPECS if wanted is None or spec.key in wanted]
    started = time.perf_counter()
    results: dict[str, Any] = {"clients": {}, "imports": {}, "save": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    server_version = None
    with tempfile.TemporaryDirectory(prefix="flux-bench-") as tmp:
        workdir = Path(tmp)
        if args.network != "only":
            _log(f"imports ({args.import_runs} fresh interpreters each)")
            results["imports"] = _imports(args, specs)
            _log("streamed save, 20 MB")
            results["save"] = _save_check(workdir)
        for group in _groups(specs) if args.network != "only" else []:
            _log("group: " + ", ".join(spec.key for spec in group))
            group_results = _run_group(group, args, workdir)
            for spec in group:
                result = group_results[spec.key]
                server_version = result.get("server_gradio", server_version)
                results["clients"][spec.key] = {**asdict(spec), **result}
                _log(f"  {spec.key}: {_report.one_line(result)}")
        if args.network != "off":
            _log(f"network: {args.rtt_ms:g} ms round trip, {args.handshakes} per connection")
            settings = network.Settings(
                rtt=args.rtt_ms / 1e3,
                handshakes=args.handshakes,
                warm_jobs=args.net_jobs,
                block=max(1, min(5, args.net_jobs // 2)),
                cold_runs=args.cold_runs,
            )
            keys = set(args.net_clients.split(",")) if args.net_clients else None
            with _space(args) as space:
                results["network"] = network.run(
                    space.url, settings, _env(), workdir, args.out, keys
                )
                server_version = server_version or space.gradio_version
            if args.work_ms > 0:
                _log(f"network, warm jobs with {args.work_ms:g} ms of work each")
                with _space(args, step_delay=args.work_ms / 1e3) as space:
                    results["network"]["work_ms"] = args.work_ms
                    results["network"]["warm_with_work"] = network.warm_phase(
                        space.url, settings, _env(), workdir, keys, tag="-work"
                    )
    results["machine"] = _machine(server_version)
    results["settings"] = {
        "quick": args.quick,
        "sequential_jobs": args.jobs,
        "warmup": args.warmup,
        "async_plan": asdict(_plan(args, "async")),
        "sync_plan": asdict(_plan(args, "sync")),
        "import_runs": args.import_runs,
        "throughput_repeats": args.tp_repeats,
        "server": f"LocalSpace(scale=64, step_delay=0, concurrency_limit={args.concurrency_limit})"
        ", num_inference_steps=1; sequential jobs: one fresh server per floor and the clients"
        " compared with it, taking turns; throughput: a fresh server per client and level",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "duration_s": round(time.perf_counter() - started, 1),
    }
    # Written first as measured, so that a failure in the report loses no run.
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    report = _report.evaluate(results)
    results["ratios"] = report.ratios
    results["targets"] = report.targets
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "latest.md").write_text(_report.markdown(results, report))
    _log(f"done in {results['settings']['duration_s']} s: {args.out / 'latest.md'}")
    print(_report.markdown(results, report))


if __name__ == "__main__":
    main()
