"""Peak memory of streaming a large image to disk, vs the idle client (its own process).

``python -m benchmarks.save_check --client flux_sync --big URL --small URL --dir D --out F``

The peak is Linux's VmHWM, reset just before each step (``/proc/self/clear_refs``), so an
earlier peak (imports, start-up) cannot hide the step's own. A small save first warms the code
path; then the big ``save()`` is measured, and ``download()`` (which returns the bytes, so must
hold them) is measured as a control that shows the method sees a buffered body.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from flux_sdk import AsyncFluxClient, FluxClient, GenerateRequest, Generation


def _status(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def _figures(before: float) -> dict[str, float]:
    peak = _status("VmHWM")
    return {"rss_before_mb": before, "peak_mb": peak, "growth_mb": peak - before}


def _measure(step: Callable[[], object]) -> dict[str, float]:
    _reset_peak()
    before = _status("VmRSS")
    step()
    return _figures(before)


async def _ameasure(step: Callable[[], Awaitable[object]]) -> dict[str, float]:
    _reset_peak()
    before = _status("VmRSS")
    await step()
    return _figures(before)


def _generation(url: str) -> Generation:
    return Generation(
        url=url, path="/bench/image.webp", seed=0, request=GenerateRequest(prompt="x")
    )


def check_flux_sync(big: str, small: str, directory: Path) -> dict[str, Any]:
    with FluxClient("http://127.0.0.1:9") as client:
        client.save(_generation(small), directory / "warm.webp")
        client.download(_generation(small))
        save = _measure(lambda: client.save(_generation(big), directory / "big.webp"))
        download = _measure(lambda: client.download(_generation(big)))
    return {"save": save, "download": download}


def check_flux_async(big: str, small: str, directory: Path) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with AsyncFluxClient("http://127.0.0.1:9") as client:
            await client.save(_generation(small), directory / "warm.webp")
            await client.download(_generation(small))
            save = await _ameasure(lambda: client.save(_generation(big), directory / "big.webp"))
            download = await _ameasure(lambda: client.download(_generation(big)))
            return {"save": save, "download": download}

    return asyncio.run(run())


def check_raw_sync(big: str, small: str, directory: Path) -> dict[str, Any]:
    """The floor: httpx's own streaming into a file."""
    with httpx.Client() as http:

        def save(url: str, path: Path) -> None:
            with http.stream("GET", url) as response, open(path, "wb") as file:
                for chunk in response.iter_bytes():
                    file.write(chunk)

        save(small, directory / "warm.webp")
        http.get(small).read()
        saved = _measure(lambda: save(big, directory / "big.webp"))
        downloaded = _measure(lambda: http.get(big).content)
    return {"save": saved, "download": downloaded}


CHECKS = {"flux_sync": check_flux_sync, "flux_async": check_flux_async, "raw_sync": check_raw_sync}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", choices=sorted(CHECKS), required=True)
    parser.add_argument("--big", required=True)
    parser.add_argument("--small", required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = CHECKS[args.client](args.big, args.small, args.dir)
    result["idle_rss_mb"] = result["save"]["rss_before_mb"]
    with open(args.out, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
