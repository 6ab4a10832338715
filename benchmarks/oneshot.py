"""One job in a fresh process, as a one-shot script does it.

``python -m benchmarks.oneshot KIND URL OUT``: import, make the client, run one job, save the
image to OUT, exit. The cold-start phase of `benchmarks.network` times the whole process and
counts its round trips through the delay proxy. Prints one JSON line: the seconds each step
took inside the process (``import``, ``client``, ``job``, ``save``, ``close``), so the report
can say where a cold start goes.

KIND is one of:

- ``httpx-queue`` (with FN_INDEX as a fourth argument) and ``httpx-call``: the floor, a
  hand-written httpx script doing only the job's exchanges (join or POST, the stream, the file);
  it knows its Space, so no ``GET /config``;
- ``flux-sync-queue``, ``flux-sync-call``: ``with FluxClient(url) as c: c.save(c.generate(...),
  path)``; ``flux-async-queue``, ``flux-async-call``: the same with `AsyncFluxClient`;
- ``gradio-client``: ``Client(url, download_files=dir).predict(..., api_name="/infer")``;
- ``g4f``: gpt4free's request logic (`benchmarks.clients.g4f_aiohttp`) and the image fetched
  with a session of its own.

The ``flux generate`` CLI is run as itself (`benchmarks.network`), not through this script.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import json  # noqa: E402  # after the clock starts: every kind pays for what it imports
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

PROMPT, SEED, WIDTH, HEIGHT, STEPS = "benchmark", 1, 1024, 1024, 1
DATA: list[object] = [PROMPT, SEED, False, WIDTH, HEIGHT, STEPS]
API = "/gradio_api"  # the Space's prefix (Gradio 5 and 6); a hand-written script knows it

Stamp = Callable[[str], None]


def _httpx(url: str, out: str, fn_index: int | None, stamp: Stamp) -> None:
    import uuid

    import httpx

    stamp("import")
    with httpx.Client(timeout=120) as http:
        stamp("client")
        api = url + API
        file_url = ""
        # Each stream is read to its end (the Space ends it after the result), so that its
        # connection is kept for the file.
        if fn_index is not None:
            session = uuid.uuid4().hex
            body = {"data": DATA, "fn_index": fn_index, "session_hash": session}
            http.post(f"{api}/queue/join", json=body).raise_for_status()
            with http.stream("GET", f"{api}/queue/data?session_hash={session}") as stream:
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        message = json.loads(line[5:])
                        if message["msg"] == "process_completed":
                            file_url = message["output"]["data"][0]["url"]
        else:
            posted = http.post(f"{api}/call/infer", json={"data": DATA}).raise_for_status()
            event_id = posted.json()["event_id"]
            event = ""
            with http.stream("GET", f"{api}/call/infer/{event_id}") as stream:
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "complete":
                        file_url = json.loads(line[5:])[0]["url"]
        stamp("job")
        with http.stream("GET", file_url) as image, open(out, "wb") as file:
            image.raise_for_status()
            for chunk in image.iter_bytes():
                file.write(chunk)
        stamp("save")
    stamp("close")


def _flux_sync(url: str, out: str, protocol: str, stamp: Stamp) -> None:
    from flux_sdk import FluxClient

    stamp("import")
    with FluxClient(url, protocol="call" if protocol == "call" else "queue") as client:
        stamp("client")
        generation = client.generate(
            PROMPT, seed=SEED, width=WIDTH, height=HEIGHT, num_inference_steps=STEPS
        )
        stamp("job")
        client.save(generation, out)
        stamp("save")
    stamp("close")


def _flux_async(url: str, out: str, protocol: str, stamp: Stamp) -> None:
    import asyncio

    from flux_sdk import AsyncFluxClient

    stamp("import")

    async def main() -> None:
        async with AsyncFluxClient(url, protocol="call" if protocol == "call" else "queue") as c:
            stamp("client")
            generation = await c.generate(
                PROMPT, seed=SEED, width=WIDTH, height=HEIGHT, num_inference_steps=STEPS
            )
            stamp("job")
            await c.save(generation, out)
            stamp("save")
        stamp("close")

    asyncio.run(main())


def _gradio_client(url: str, out: str, stamp: Stamp) -> None:
    import os
    import shutil
    import tempfile

    from gradio_client import Client

    stamp("import")
    with tempfile.TemporaryDirectory() as downloads:
        client = Client(url, download_files=downloads, verbose=False)
        stamp("client")
        result: Any = client.predict(*DATA, api_name="/infer")
        stamp("job")
        shutil.move(str(result[0]), out)
        stamp("save")
        client.close()
        stamp("close")
        assert os.path.exists(out)


def _g4f(url: str, out: str, stamp: Stamp) -> None:
    import asyncio

    from aiohttp import ClientSession

    from benchmarks.clients.g4f_aiohttp import G4fAiohttp

    stamp("import")

    async def main() -> None:
        provider = G4fAiohttp(url)
        stamp("client")
        image_url = await provider.job()
        stamp("job")
        async with ClientSession() as session, session.get(image_url) as response:
            response.raise_for_status()
            data = await response.read()
        with open(out, "wb") as file:  # noqa: ASYNC230  # one job: nothing else on the loop
            file.write(data)
        stamp("save")
        stamp("close")

    asyncio.run(main())


def main(argv: list[str]) -> None:
    kind, url, out = argv[:3]
    steps: dict[str, float] = {}
    last = [_T0]

    def stamp(step: str) -> None:
        now = time.perf_counter()
        steps[step] = now - last[0]
        last[0] = now

    if kind.startswith("httpx-"):
        _httpx(url, out, int(argv[3]) if kind == "httpx-queue" else None, stamp)
    elif kind.startswith("flux-sync-"):
        _flux_sync(url, out, kind.rsplit("-", 1)[1], stamp)
    elif kind.startswith("flux-async-"):
        _flux_async(url, out, kind.rsplit("-", 1)[1], stamp)
    elif kind == "gradio-client":
        _gradio_client(url, out, stamp)
    elif kind == "g4f":
        _g4f(url, out, stamp)
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    steps["total"] = time.perf_counter() - _T0
    print(json.dumps(steps))


if __name__ == "__main__":
    main(sys.argv[1:])
