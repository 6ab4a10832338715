"""The network phase's tables and targets (`benchmarks.network`'s results)."""

from __future__ import annotations

from typing import Any

Result = dict[str, Any]

COLD_WALL_LIMIT = 1.3
"""Issue 14: a cold one-shot (script or CLI) at most 1.3x the hand-written httpx script."""
COLD_WALL_TARGETS = ("flux-cli", "flux-sync-queue", "flux-sync-call")
FLUX_KEYS = (
    "flux-sync-queue", "flux-sync-call", "flux-async-queue", "flux-async-call", "flux-cli",
)  # fmt: skip


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _cold_ratio(network: Result, key: str, figure: str = "wall_s") -> float | None:
    cold = network["cold"]
    floor = next((c["floor"] for c in network["clients"] if c["key"] == key), None)
    mine, theirs = cold.get(key, {}), cold.get(floor or "", {})
    if floor is None or figure not in mine or figure not in theirs:
        return None
    return float(mine[figure]) / float(theirs[figure])


def markdown(network: Result) -> list[str]:
    """The round-trip table, the cold-start steps and the CLI's profile summary."""
    settings, floors = network["settings"], network["floors"]
    work = network.get("warm_with_work", {})
    work_ms = network.get("work_ms")
    lines = [
        "",
        f"## Round trips and cold starts ({settings['rtt_ms']:g} ms round trip, "
        f"{settings['handshakes']} more per new connection)",
        "",
        "Each client through a delay proxy of its own in front of one zero-cost replica. "
        "*Counted*: round trips = turns (the client sending after it was answered) + "
        f"{settings['handshakes']} × connections opened, as the proxy sees them. *From wall*: "
        "(median job with the delay − median job without it) / RTT, paired, "
        f"{settings['warm_jobs']} delayed warm jobs per client, each with its image "
        f"(join or POST, stream, file). Cold: one job and its file saved in a fresh process, "
        f"median of {settings['cold_runs']} (walls against the replica directly, in turns; "
        "round trips counted through the proxy; the first, untimed run's in brackets). "
        f"Floors: warm {floors['warm']} round trips (join, stream, file on one kept-alive "
        f"connection; the stream's overlaps the Space's work once that outlasts a round trip, "
        f"so 2 from wall with real work), cold {floors['cold']} (connection "
        f"{settings['handshakes']} + join + stream + file; {floors['cold_with_config']} with "
        "`GET /config`).",
        "",
        "| client | protocol | warm RT/job counted | warm RT/job from wall "
        + (f"| from wall, {work_ms:g} ms work " if work else "")
        + "| warm conn/job | cold RT counted (first) | cold conn | cold wall ms (×floor) "
        f"| cold CPU ms (×floor) | cold wall at {settings['rtt_ms']:g} ms RTT |",
        "|---|---|---:|---:|" + ("---:|" if work else "") + "---:|---:|---:|---:|---:|---:|",
    ]
    for client in network["clients"]:
        key = client["key"]
        warm = network["warm"].get(key, {})
        cold = network["cold"].get(key, {})
        label = f"**{client['label']}**" if key.startswith("flux") else client["label"]
        cells = [label, client["protocol"]]
        with_work = work.get(key, {}).get("round_trips_from_wall") if work else None
        if "failed" in warm:
            cells += ["failed", ""] + ([""] if work else []) + [""]
        elif warm:
            cells += [_num(warm["round_trips"], 2), _num(warm["round_trips_from_wall"], 2)]
            cells += [_num(with_work, 2)] if work else []
            cells += [_num(warm["connections"], 2)]
        else:
            cells += ["–", "–"] + (["–"] if work else []) + ["–"]
        if "failed" in cold or not cold:
            cells += ["failed" if cold else "–", "", "", "", ""]
        else:
            ratio, cpu_ratio = _cold_ratio(network, key), _cold_ratio(network, key, "cpu_s")
            first = cold["first"]["round_trips"]
            cells += [
                f"{_num(cold['round_trips'], 0)} ({_num(first, 0)})",
                _num(cold["connections"], 0),
                f"{cold['wall_s'] * 1e3:.0f}" + (f" ({ratio:.2f}×)" if ratio else ""),
                f"{cold['cpu_s'] * 1e3:.0f}" + (f" ({cpu_ratio:.2f}×)" if cpu_ratio else ""),
                f"{cold['delayed_wall_s'] * 1e3:.0f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _steps_table(network)
    lines += _profile_summary(network.get("profile", {}))
    return lines


_STEPS = ("import", "client", "job", "save", "close")


def _steps_table(network: Result) -> list[str]:
    lines = [
        "",
        "Where a cold one-shot's time goes (median seconds, the clock inside the process; "
        "`rest` is the interpreter's start-up and exit: process wall − the script's total):",
        "",
        "| client | protocol | " + " | ".join(_STEPS) + " | rest | process wall |",
        "|---|---|" + "---:|" * (len(_STEPS) + 2),
    ]
    for client in network["clients"]:
        cold = network["cold"].get(client["key"], {})
        steps = cold.get("steps_s")
        if not steps:
            continue
        rest = cold["wall_s"] - steps.get("total", 0.0)
        cells = [client["label"], client["protocol"]]
        cells += [_num(steps.get(step), 3) for step in _STEPS]
        cells += [_num(rest, 3), _num(cold["wall_s"], 3)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _profile_summary(profile: Result) -> list[str]:
    if not profile or "failed" in profile:
        return ["", f"Profile of `flux generate`: {profile.get('failed', 'not run')}"[:300]]
    importtime = profile["importtime"]
    top = ", ".join(f"`{e['package']}` {e['self_ms']:.0f}" for e in importtime["by_package"][:8])
    ours = ", ".join(
        f"`{e['module']}` {e['self_ms']:.0f}" for e in importtime["flux_sdk_modules"][:4]
    )
    cprofile = profile["cprofile"]
    lines = [
        "",
        f"Profile of `flux generate` (`results/{profile['file']}`): `python -X importtime`, "
        f"{importtime['total_ms']:.0f} ms importing; by package (self ms): {top}; flux_sdk's "
        f"heaviest modules (self ms): {ours}. "
        f"cProfile (slower than the real thing; cumulative, so nested calls overlap): "
        f"{cprofile['total_s']:.3f} s in all, {cprofile['imports_s']:.3f} s importing; "
        "flux_sdk's heaviest calls:",
        "",
    ]
    for entry in cprofile["flux_sdk_heaviest"][:8]:
        lines.append(f"- `{entry['function']}`: {entry['cumulative_s']:.3f} s")
    return lines


def targets(network: Result) -> list[dict[str, Any]]:
    """Issue 14's network targets: round trips at the floor, the cold wall within 1.3x."""
    out: list[dict[str, Any]] = []
    floors = network["floors"]
    for key in FLUX_KEYS:
        warm = network["warm"].get(key, {})
        if "round_trips" in warm:
            value = float(warm["round_trips"])
            out.append({"target": f"warm job ≤ {floors['warm']} round trips (counted)",
                        "client": key, "figure": "round trips per warm job", "value": value,
                        "met": value <= floors["warm"] + 0.05})  # fmt: skip
        cold = network["cold"].get(key, {})
        if "round_trips" in cold:
            value = float(cold["round_trips"])
            out.append({"target": f"cold process ≤ {floors['cold']} round trips (counted)",
                        "client": key, "figure": "round trips, one job in a fresh process",
                        "value": value, "met": value <= floors["cold"]})  # fmt: skip
    for key in COLD_WALL_TARGETS:
        ratio = _cold_ratio(network, key)
        if ratio is not None:
            out.append({"target": f"cold process wall ≤ {COLD_WALL_LIMIT}× the httpx script",
                        "client": key, "figure": "median wall ×floor", "value": ratio,
                        "met": ratio <= COLD_WALL_LIMIT})  # fmt: skip
        cpu_ratio = _cold_ratio(network, key, "cpu_s")
        if cpu_ratio is not None:
            out.append({"target": "(the same in CPU time, steadier on a loaded machine)",
                        "client": key, "figure": "median CPU ×floor", "value": cpu_ratio,
                        "met": cpu_ratio <= COLD_WALL_LIMIT})  # fmt: skip
    return out
