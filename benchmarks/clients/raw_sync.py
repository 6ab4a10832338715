"""The sync floor: a minimal hand-written httpx.Client doing the Space's exchanges.

No validation, no models: GET /config once, then per job either ``queue/join`` + ``queue/data``
(read until ``process_completed``) or ``/call/infer`` POST + GET stream (until ``complete``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

import httpx

from . import DATA, JOB_TIMEOUT

MODE: Literal["sync"] = "sync"


class RawSync:
    def __init__(self, url: str, protocol: str) -> None:
        # Unbounded pool: a floor must not be the one throttling 500 jobs in flight.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        self._http = httpx.Client(timeout=JOB_TIMEOUT, limits=limits)
        config: dict[str, Any] = self._http.get(f"{url}/config").json()
        self._api = url + str(config.get("api_prefix", ""))
        self._fn_index = next(
            dep["id"] for dep in config["dependencies"] if dep.get("api_name") == "infer"
        )
        self._queue = protocol == "queue"
        self.job = self._queue_job if self._queue else self._call_job

    def _queue_job(self, drain: bool = False) -> str:
        session_hash = uuid.uuid4().hex
        body = {"data": DATA, "fn_index": self._fn_index, "session_hash": session_hash}
        self._http.post(f"{self._api}/queue/join", json=body).raise_for_status()
        url = f"{self._api}/queue/data?session_hash={session_hash}"
        with self._http.stream("GET", url) as response:
            result = None
            for line in response.iter_lines():
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

    def _call_job(self, drain: bool = False) -> str:
        response = self._http.post(f"{self._api}/call/infer", json={"data": DATA})
        event_id = response.raise_for_status().json()["event_id"]
        event = ""
        with self._http.stream("GET", f"{self._api}/call/infer/{event_id}") as stream:
            result = None
            for line in stream.iter_lines():
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

    def job_file(self) -> int:
        # The stream read to its end, so that its connection is kept for the file.
        url = self._queue_job(drain=True) if self._queue else self._call_job(drain=True)
        return len(self._http.get(url).raise_for_status().content)

    def close(self) -> None:
        self._http.close()


def connect(url: str, protocol: str, max_inflight: int) -> RawSync:
    return RawSync(url, protocol)
