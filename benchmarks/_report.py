"""Ratios to the floor, the issue's targets, and the markdown table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _netreport
from ._specs import BY_KEY, DEPS_IMPORT, FLUX_IMPORT, FLUX_USE_IMPORT, SPECS

SAVE_LIMIT_MB = 5.0
""""Within a few MB of idle": the largest peak growth a 20 MB save may show."""

FLUX_ASYNC = ("flux-async-queue", "flux-async-call")
FLUX_SYNC = ("flux-sync-queue", "flux-sync-call")
LIKE_FOR_LIKE_GRADIO = "flux-sync-queue"
"""gradio_client is sync and speaks the queue protocol: its like-for-like flux_sdk client."""

Result = dict[str, Any]


@dataclass
class Report:
    ratios: dict[str, dict[str, float | None]]
    targets: list[dict[str, Any]]


def _import_s(results: Result, key: str) -> float | None:
    stmt = BY_KEY[key].imports
    entry = results["imports"].get("by_statement", {}).get(stmt)
    return float(entry["min_s"]) if entry else None


def _top_level(client: Result) -> str | None:
    throughput: dict[str, Any] = client.get("throughput") or {}
    return max(throughput, key=int) if throughput else None


def figures(results: Result, key: str) -> dict[str, float | None]:
    """Every figure of one client, flat: lower is better except ``tp@N``."""
    client = results["clients"].get(key, {})
    if "sequential" not in client:
        return {"import_ms": _ms(_import_s(results, key))}
    out: dict[str, float | None] = {
        "import_ms": _ms(_import_s(results, key)),
        "median_ms": client["sequential"]["median_ms"],
        "p95_ms": client["sequential"]["p95_ms"],
        "cpu_ms_per_job": client["sequential"]["cpu_ms_per_job"],
        "peak_rss_mb": client["peak_rss_mb"],
        "errors": float(client["errors"]),
    }
    for level, phase in client["throughput"].items():
        out[f"tp@{level}"] = phase["jobs_per_s"]
        out[f"tp_errors@{level}"] = float(phase["errors"])
        out[f"tp_cpu_ms_per_job@{level}"] = phase["cpu_ms_per_job"]
    return out


def _ms(seconds: float | None) -> float | None:
    return seconds * 1e3 if seconds is not None else None


def _ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or floor is None or floor == 0:
        return None
    return value / floor


def evaluate(results: Result) -> Report:
    ratios: dict[str, dict[str, float | None]] = {}
    for spec in SPECS:
        if spec.floor is None or spec.key not in results["clients"]:
            continue
        mine, floor = figures(results, spec.key), figures(results, spec.floor)
        ratios[spec.key] = {
            name: _ratio(value, floor.get(name))
            for name, value in mine.items()
            if "errors" not in name
        }
    targets: list[dict[str, Any]] = []

    def target(name: str, key: str, figure: str, value: float | None, met: bool | None) -> None:
        targets.append({"target": name, "client": key, "figure": figure, "value": value,
                        "met": met})  # fmt: skip

    def ratio_target(
        name: str, keys: tuple[str, ...], figure: str, ok: Callable[[float], bool]
    ) -> None:
        for key in keys:
            value = ratios.get(key, {}).get(figure)
            target(name, key, f"{figure} ×floor", value, ok(value) if value is not None else None)

    ratio_target("async median latency ≤ 1.10× floor", FLUX_ASYNC, "median_ms", lambda r: r <= 1.10)
    ratio_target("sync median latency ≤ 1.25× floor", FLUX_SYNC, "median_ms", lambda r: r <= 1.25)
    for key in FLUX_ASYNC + FLUX_SYNC:
        client = results["clients"].get(key, {})
        level = _top_level(client)
        if level is None:
            target("throughput at top in-flight ≥ 0.9× floor, 0 errors", key, "tp", None, None)
            continue
        value = ratios.get(key, {}).get(f"tp@{level}")
        errors = client["throughput"][level]["errors"]
        met = value is not None and value >= 0.9 and errors == 0
        target(f"throughput at {level} in flight ≥ 0.9× floor, 0 errors", key,
               f"tp@{level} ×floor (errors {errors})", value, met)  # fmt: skip
    ratio_target("async CPU per job ≤ 1.2× floor", FLUX_ASYNC, "cpu_ms_per_job",
                 lambda r: r <= 1.2)  # fmt: skip
    # Issue 14: the sync client over the one (async) transport, against httpx.Client.
    ratio_target("sync CPU per job ≤ 1.5× floor", FLUX_SYNC, "cpu_ms_per_job",
                 lambda r: r <= 1.5)  # fmt: skip
    by_stmt = results["imports"].get("by_statement", {})
    deps = by_stmt.get(DEPS_IMPORT)
    for stmt in (FLUX_IMPORT, FLUX_USE_IMPORT):
        flux = by_stmt.get(stmt)
        if flux and deps:
            value = flux["min_s"] / deps["min_s"]
            target(f"`{stmt}` ≤ 1.15× importing its deps", "flux_sdk", "import ×deps", value,
                   value <= 1.15)  # fmt: skip
    for key, save in results["save"].get("clients", {}).items():
        if key.startswith("flux") and "save" in save:
            growth = save["save"]["growth_mb"]
            target(f"20 MB save: peak ≤ idle + {SAVE_LIMIT_MB:g} MB", key, "peak growth MB",
                   growth, growth <= SAVE_LIMIT_MB)  # fmt: skip
    if "gradio_client" in results["clients"] and LIKE_FOR_LIKE_GRADIO in results["clients"]:
        mine, theirs = figures(results, LIKE_FOR_LIKE_GRADIO), figures(results, "gradio_client")
        for name, value in mine.items():
            other = theirs.get(name)
            if value is None or other is None:
                continue
            higher_is_better = name.startswith("tp@")
            ahead = value >= other if higher_is_better else value <= other
            if name.startswith(("errors", "tp_errors")):
                ahead = value <= other
            target("ahead of gradio_client on every figure", LIKE_FOR_LIKE_GRADIO,
                   f"{name}: {_fmt(value)} vs {_fmt(other)}", value / other if other else None,
                   ahead)  # fmt: skip
    if "network" in results:
        targets += _netreport.targets(results["network"])
    return Report(ratios=ratios, targets=targets)


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def _cell(value: float | None, ratio: float | None, digits: int = 1) -> str:
    text = _fmt(value, digits)
    return f"{text} ({ratio:.2f}×)" if ratio is not None else text


def one_line(result: Result) -> str:
    if "sequential" not in result:
        return str(result.get("failed", "no result"))[:300]
    seq = result["sequential"]
    tps = ", ".join(f"@{k}: {v['jobs_per_s']:.0f}/s ({v['errors']} err)"
                    for k, v in result["throughput"].items())  # fmt: skip
    return (
        f"median {seq['median_ms']:.1f} ms, p95 {seq['p95_ms']:.1f} ms, "
        f"cpu {seq['cpu_ms_per_job']:.2f} ms/job, {tps}, peak RSS {result['peak_rss_mb']:.0f} MB"
    )


def markdown(results: Result, report: Report) -> str:
    machine, settings = results["machine"], results["settings"]
    lines = [
        "# flux_sdk benchmark results",
        "",
        f"{settings['date']}, {settings['duration_s']} s. Machine: {machine['cores']} cores, "
        f"{machine['cpu_model']}, {machine['memory_gb']} GB, {machine['platform']}, "
        f"{machine['python_implementation']} {machine['python']}. flux_sdk from "
        f"{machine.get('flux_sdk_source', 'unknown')}. Server: Gradio "
        f"{machine['server_gradio']}, {settings['server']}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in machine["packages"].items() if v) + ".",
        "",
    ]
    if results["clients"]:
        lines += _clients_table(results, report)
    if results["imports"]:
        lines += _imports_table(results)
    if results["save"]:
        lines += _save_table(results)
    if "network" in results:
        lines += _netreport.markdown(results["network"])
    lines += ["", "## Targets", "", "| target | client | figure | value | result |",
              "|---|---|---|---:|---|"]  # fmt: skip
    for item in report.targets:
        met = {True: "met", False: "**missed**", None: "n/a"}[item["met"]]
        lines.append(f"| {item['target']} | {item['client']} | {item['figure']} | "
                     f"{_fmt(item['value'], 2)} | {met} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _clients_table(results: Result, report: Report) -> list[str]:
    settings = results["settings"]
    levels = sorted(
        {int(level) for c in results["clients"].values() for level in c.get("throughput", {})}
    )
    lines = [
        "",
        f"Per client: {settings['warmup']} warm-up jobs, {settings['sequential_jobs']} sequential "
        f"jobs (latency, CPU), then throughput with N jobs in flight (async: tasks; sync: "
        f"threads sharing one client). Async plan {settings['async_plan']['throughput_jobs']}, "
        f"sync plan {settings['sync_plan']['throughput_jobs']} (in flight: jobs per "
        f"measurement; {settings.get('throughput_repeats', 1)} measurement(s) per figure, each "
        "on a fresh server, median reported). "
        f"Imports: min of {settings['import_runs']} fresh interpreters.",
        "",
        "Each cell: the figure (its ratio to the floor of the same mode and protocol).",
        "",
        "| client | mode | protocol | import ms | median ms | p95 ms | "
        + " | ".join(f"jobs/s @{level}" for level in levels)
        + " | errors | CPU ms/job | peak RSS MB |",
        "|---|---|---|---:|---:|---:|" + "---:|" * len(levels) + "---:|---:|---:|",
    ]
    for spec in SPECS:
        if spec.key not in results["clients"]:
            continue
        client = results["clients"][spec.key]
        mine = figures(results, spec.key)
        ratio = report.ratios.get(spec.key, {})
        label = f"**{spec.label}**" if spec.key.startswith("flux") else spec.label
        if "sequential" not in client:
            lines.append(f"| {label} | {spec.mode} | {spec.protocol} | failed: "
                         f"{str(client.get('failed'))[:120]!r} |")  # fmt: skip
            continue
        tp_cells = [
            _cell(mine.get(f"tp@{level}"), ratio.get(f"tp@{level}"), 0)
            + (
                f" ⚠{int(mine[f'tp_errors@{level}'] or 0)} err"
                if mine.get(f"tp_errors@{level}")
                else ""
            )
            for level in levels
        ]
        cells = [
            label,
            spec.mode,
            spec.protocol,
            _cell(mine["import_ms"], ratio.get("import_ms"), 0),
            _cell(mine["median_ms"], ratio.get("median_ms")),
            _cell(mine["p95_ms"], ratio.get("p95_ms")),
            *tp_cells,
            str(int(mine["errors"] or 0)),
            _cell(mine["cpu_ms_per_job"], ratio.get("cpu_ms_per_job"), 2),
            _cell(mine["peak_rss_mb"], ratio.get("peak_rss_mb"), 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _imports_table(results: Result) -> list[str]:
    lines = ["", "## Imports", "", "| statement | min ms (in process) | min ms (whole process) |",
              "|---|---:|---:|"]  # fmt: skip
    imports = results["imports"]
    for stmt, entry in imports["by_statement"].items():
        lines.append(
            f"| `{stmt}` | {entry['min_s'] * 1e3:.0f} | {entry['process_min_s'] * 1e3:.0f} |"
        )
    loaded = imports["flux_sdk_deps_as_loaded"]
    lines.append(f"| {loaded['statement']} | {loaded['min_s'] * 1e3:.0f} | "
                 f"{loaded['process_min_s'] * 1e3:.0f} |")  # fmt: skip
    by_stmt = imports["by_statement"]
    if FLUX_USE_IMPORT in by_stmt and DEPS_IMPORT in by_stmt:
        deps = by_stmt[DEPS_IMPORT]["min_s"]
        lines.append("")
        for stmt in (FLUX_IMPORT, FLUX_USE_IMPORT):
            if stmt in by_stmt:
                lines.append(
                    f"- `{stmt}` / `{DEPS_IMPORT}`: **{by_stmt[stmt]['min_s'] / deps:.2f}×**"
                )
        use = by_stmt[FLUX_USE_IMPORT]["min_s"]
        lines.append(
            f"- `{FLUX_USE_IMPORT}` / the same third-party modules imported alone: "
            f"**{use / loaded['min_s']:.2f}×** (flux_sdk's own modules: "
            f"{(use - loaded['min_s']) * 1e3:.0f} ms)"
        )
    return lines


def _save_table(results: Result) -> list[str]:
    save = results["save"]
    lines = ["", f"## Streamed save ({save['size_mb']:g} MB)", "",
              "| client | idle RSS MB | `save()` peak growth MB | "
              "`download()` peak growth MB (control: holds the bytes) |",
              "|---|---:|---:|---:|"]  # fmt: skip
    for key, entry in save["clients"].items():
        if "save" not in entry:
            lines.append(f"| {key} | failed | | |")
            continue
        lines.append(f"| {key} | {entry['idle_rss_mb']:.1f} | {entry['save']['growth_mb']:.1f} | "
                     f"{entry['download']['growth_mb']:.1f} |")  # fmt: skip
    return lines
