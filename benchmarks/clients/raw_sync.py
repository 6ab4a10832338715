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
        self.job = self._queue_job if protocol == "queue" else self._call_job

    def _queue_job(self) -> str:
        session_hash = uuid.uuid4().hex
        body = {"data": DATA, "fn_index": self._fn_index, "session_hash": session_hash}
        self._http.post(f"{self._api}/queue/join", json=body).raise_for_status()
        url = f"{self._api}/queue/data?session_hash={session_hash}"
        with self._http.stream("GET", url) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message["msg"] == "process_completed":
                        if not message["success"]:
                            raise RuntimeError(f"job failed: {message['output']}")
                        return str(message["output"]["data"][0]["url"])
        raise RuntimeError("stream ended without process_completed")

    def _call_job(self) -> str:
        response = self._http.post(f"{self._api}/call/infer", json={"data": DATA})
        event_id = response.raise_for_status().json()["event_id"]
        event = ""
        with self._http.stream("GET", f"{self._api}/call/infer/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    if event == "complete":
                        return str(json.loads(line[5:])[0]["url"])
                    if event == "error":
                        raise RuntimeError(f"job failed: {line[5:]}")
        raise RuntimeError("stream ended without complete")

    def close(self) -> None:
        self._http.close()


def connect(url: str, protocol: str, max_inflight: int) -> RawSync:
    return RawSync(url, protocol)
