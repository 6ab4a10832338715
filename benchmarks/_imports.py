"""Cold import times, each in a fresh interpreter (min of several runs)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping

_TIMED = (
    "import time as _time\n_t0 = _time.perf_counter()\n{stmt}\nprint(_time.perf_counter() - _t0)\n"
)

_LOADED = """
import sys, json
_before = set(sys.modules)
{stmt}
print(json.dumps([m for m in sys.modules if m not in _before and not m.startswith("flux_sdk")]))
"""


def time_import(python: str, stmt: str, runs: int, env: Mapping[str, str]) -> dict[str, object]:
    """Seconds ``stmt`` takes in a fresh ``python`` (in-process clock), min over ``runs``.

    A first, untimed run compiles the bytecode caches, so every timed run reads ``.pyc`` files
    as any later import would. Also records the whole process's wall time (interpreter start-up
    included).
    """
    code = _TIMED.format(stmt=stmt)
    subprocess.run([python, "-c", code], check=True, env=dict(env), capture_output=True)
    inside: list[float] = []
    process: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [python, "-c", code], check=True, env=dict(env), capture_output=True, text=True
        )
        process.append(time.perf_counter() - start)
        inside.append(float(out.stdout.strip().splitlines()[-1]))
    return {
        "statement": stmt,
        "min_s": min(inside),
        "median_s": sorted(inside)[len(inside) // 2],
        "process_min_s": min(process),
        "runs": len(inside),
    }


def deps_as_loaded(python: str, stmt: str, env: Mapping[str, str]) -> str:
    """A statement importing every module ``stmt`` loads, except flux_sdk's own.

    Timing it gives what flux_sdk's dependencies cost *as flux_sdk uses them* (e.g. pydantic's
    BaseModel machinery, which a bare ``import pydantic`` defers); the rest is flux_sdk itself.
    """
    out = subprocess.run(
        [python, "-c", _LOADED.format(stmt=stmt)],
        check=True,
        env=dict(env),
        capture_output=True,
        text=True,
    )
    modules: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return (
        "import importlib as _il\n"
        f"for _m in {modules!r}:\n"
        "    try:\n"
        "        _il.import_module(_m)\n"
        "    except Exception:\n"
        "        pass"
    )
