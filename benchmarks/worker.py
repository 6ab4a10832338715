"""One client, in its own process: ``python -m benchmarks.worker --client NAME ...``.

The orchestrator (`benchmarks.run`) starts one of these per client, so import cost, CPU time and
peak RSS belong to that client alone. It drives the worker over stdin/stdout, one command per
line, so that the clients it compares can take turns (small blocks of sequential jobs) against
the same server under the same background load:

- ``seq N``: run N sequential jobs.
- ``tp C N URL``: N jobs with C in flight, by a new client (warmed up first) for the fresh server
  at URL: a Gradio server slows down as it serves thousands of deep-queue jobs, so each
  throughput figure gets a server of its own.
- ``files N LABEL``: N sequential jobs, each fetching its image too, timed under LABEL (the
  delay-proxy phase, `benchmarks.network`, changes the proxy's delay between such commands).
- ``end``: write the figures as JSON to ``--out`` and exit.

Each command is answered ``ok``.

The worker announces ``ready`` once its client is set up and warmed up.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from typing import IO, Any

from ._measure import AsyncRunner, SyncRunner, current_rss_mb, peak_rss_mb


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", required=True, help="module under benchmarks.clients")
    parser.add_argument("--protocol", choices=("queue", "call"), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-inflight", type=int, default=1)
    parser.add_argument("--out", required=True)
    return parser.parse_args()


def _channel() -> IO[str]:
    """The command channel's reply side: the real stdout; anything printed goes to stderr."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return replies


def _commands(replies: IO[str]) -> Any:
    print("ready", file=replies, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        yield words
        print("ok", file=replies, flush=True)


def main() -> None:
    args = _parse()
    replies = _channel()
    module: Any = importlib.import_module(f"benchmarks.clients.{args.client}")
    started = time.perf_counter()
    result: dict[str, Any]
    if module.MODE == "async":
        import asyncio

        async def run() -> dict[str, Any]:
            client = await module.connect(args.url, args.protocol, args.max_inflight)
            try:
                runner = AsyncRunner(client.job, client.job_file)
                await runner.warmup(args.warmup)
                idle = current_rss_mb()
                for words in _commands(replies):
                    if words[0] == "seq":
                        await runner.sequential(int(words[1]))
                    elif words[0] == "tp":
                        inflight, jobs, url = int(words[1]), int(words[2]), words[3]
                        fresh = await module.connect(url, args.protocol, inflight)
                        try:
                            await runner.warmup(args.warmup, fresh.job)
                            await runner.throughput_phase(fresh.job, inflight, jobs)
                        finally:
                            await fresh.close()
                    elif words[0] == "files":
                        await runner.files(int(words[1]), words[2])
                    elif words[0] == "end":
                        break
                return {"rss_idle_mb": idle, **runner.result()}
            finally:
                await client.close()

        result = asyncio.run(run())
    else:
        client = module.connect(args.url, args.protocol, args.max_inflight)
        try:
            runner = SyncRunner(client.job, client.job_file)
            runner.warmup(args.warmup)
            idle = current_rss_mb()
            for words in _commands(replies):
                if words[0] == "seq":
                    runner.sequential(int(words[1]))
                elif words[0] == "tp":
                    inflight, jobs, url = int(words[1]), int(words[2]), words[3]
                    fresh = module.connect(url, args.protocol, inflight)
                    try:
                        runner.warmup(args.warmup, fresh.job)
                        runner.throughput_phase(fresh.job, inflight, jobs)
                    finally:
                        fresh.close()
                elif words[0] == "files":
                    runner.files(int(words[1]), words[2])
                elif words[0] == "end":
                    break
            result = {"rss_idle_mb": idle, **runner.result()}
        finally:
            client.close()
    result.update(mode=module.MODE, run_s=time.perf_counter() - started, peak_rss_mb=peak_rss_mb())
    with open(args.out, "w") as out:
        json.dump(result, out)
    print("ok", file=replies, flush=True)


if __name__ == "__main__":
    main()
