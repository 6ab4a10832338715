"""Run one client alone for profiling: ``python -m benchmarks.profile --client flux_sync ...``.

Starts its own Gradio replica, warms the client up, runs ``--jobs`` jobs (``--inflight`` at a
time) and prints the client's CPU per job. Wrap it in a sampling profiler, e.g.::

    py-spy record --format raw -o stacks.txt -- python -m benchmarks.profile --client flux_sync
    python -m benchmarks.profile --client flux_async --pyinstrument

(py-spy samples every thread, which the sync client needs: its work runs on its event-loop
thread.) ``--pyinstrument`` profiles the main thread in-process, enough for async clients.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
from typing import Any

from flux_sdk.local import LocalSpace

from ._measure import AsyncRunner, SyncRunner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", required=True, help="module under benchmarks.clients")
    parser.add_argument("--protocol", choices=("queue", "call"), default="queue")
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--inflight", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pyinstrument", action="store_true", help="print a pyinstrument tree")
    parser.add_argument(
        "--server-python",
        default=os.environ.get("FLUX_BENCH_SERVER_PYTHON", ".nox/gradio-6/bin/python"),
    )
    args = parser.parse_args()
    module: Any = importlib.import_module(f"benchmarks.clients.{args.client}")
    profiler: Any = None
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    space = LocalSpace(python=os.path.abspath(args.server_python), scale=64, step_delay=0,
                       concurrency_limit=1000)  # fmt: skip
    with space:
        cpu0 = time.process_time()
        if module.MODE == "async":

            async def run() -> AsyncRunner:
                client = await module.connect(space.url, args.protocol, args.inflight)
                runner = AsyncRunner(client.job, client.job_file)
                await runner.warmup(args.warmup)
                if profiler is not None:
                    profiler.start()
                nonlocal cpu0
                cpu0 = time.process_time()
                if args.inflight == 1:
                    await runner.sequential(args.jobs)
                else:
                    await runner.throughput_phase(client.job, args.inflight, args.jobs)
                await client.close()
                return runner

            result = asyncio.run(run()).result()
        else:
            client = module.connect(space.url, args.protocol, args.inflight)
            runner = SyncRunner(client.job, client.job_file)
            runner.warmup(args.warmup)
            if profiler is not None:
                profiler.start()
            cpu0 = time.process_time()
            if args.inflight == 1:
                runner.sequential(args.jobs)
            else:
                runner.throughput_phase(client.job, args.inflight, args.jobs)
            client.close()
            result = runner.result()
        cpu = time.process_time() - cpu0
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)
    print(
        f"{args.client} {args.protocol} x{args.jobs} (in flight {args.inflight}): "
        f"client CPU {cpu / args.jobs * 1e3:.2f} ms/job, errors {result['errors']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
