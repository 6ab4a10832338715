"""The async floor: the same minimal exchanges as `raw_sync`, on httpx.AsyncClient (asyncio)."""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

import httpx

from . import DATA, JOB_TIMEOUT

MODE: Literal["async"] = "async"


class RawAsync:
    def __init__(self, http: httpx.AsyncClient, api: str, fn_index: int, protocol: str) -> None:
        self._http = http
        self._api = api
        self._fn_index = fn_index
        self._queue = protocol == "queue"
        self.job = self._queue_job if self._queue else self._call_job

    async def _queue_job(self, drain: bool = False) -> str:
        session_hash = uuid.uuid4().hex
        body = {"data": DATA, "fn_index": self._fn_index, "session_hash": session_hash}
        (await self._http.post(f"{self._api}/queue/join", json=body)).raise_for_status()
        url = f"{self._api}/queue/data?session_hash={session_hash}"
        async with self._http.stream("GET", url) as response:
            result = None
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message["msg"] == "process_completed":
                        if not message["success"]:
                            raise RuntimeError(f"job failed: {message['output']}")
                        result = str(message["output"]["data"][0]["url"])
                        if not drain:
                            return result
        if result is None:
            raise RuntimeError("stream ended without process_completed")
        return result

    async def _call_job(self, drain: bool = False) -> str:
        response = await self._http.post(f"{self._api}/call/infer", json={"data": DATA})
        event_id = response.raise_for_status().json()["event_id"]
        event = ""
        async with self._http.stream("GET", f"{self._api}/call/infer/{event_id}") as stream:
            result = None
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    if event == "complete":
                        result = str(json.loads(line[5:])[0]["url"])
                        if not drain:
                            return result
                    if event == "error":
                        raise RuntimeError(f"job failed: {line[5:]}")
        if result is None:
            raise RuntimeError("stream ended without complete")
        return result

    async def job_file(self) -> int:
        # The stream read to its end, so that its connection is kept for the file.
        url = await (self._queue_job(drain=True) if self._queue else self._call_job(drain=True))
        return len((await self._http.get(url)).raise_for_status().content)

    async def close(self) -> None:
        await self._http.aclose()


async def connect(url: str, protocol: str, max_inflight: int) -> RawAsync:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    http = httpx.AsyncClient(timeout=JOB_TIMEOUT, limits=limits)
    config: dict[str, Any] = (await http.get(f"{url}/config")).json()
    fn_index = next(dep["id"] for dep in config["dependencies"] if dep.get("api_name") == "infer")
    return RawAsync(http, url + str(config.get("api_prefix", "")), fn_index, protocol)
