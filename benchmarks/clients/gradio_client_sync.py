"""The official `gradio_client` (queue protocol only), as its README shows it: ``predict``.

``download_files=False`` so that, like every other client here, a job ends at the image URL
instead of also downloading the image. ``max_workers`` is raised to the deepest in-flight level:
its default (40) would otherwise cap the thread-pool phases at 40 jobs. ``job_file`` uses a
second client as the README makes it, which downloads each result (into a temporary directory).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Literal

from gradio_client import Client

from . import HEIGHT, PROMPT, RANDOMIZE_SEED, SEED, STEPS, WIDTH

MODE: Literal["sync"] = "sync"


class GradioClientSync:
    def __init__(self, url: str, max_inflight: int) -> None:
        self._url = url
        self._client = Client(
            url, download_files=False, verbose=False, max_workers=max(40, max_inflight)
        )
        self._files: Client | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="flux-bench-gc-")

    def job(self) -> str:
        result: Any = self._client.predict(
            PROMPT, SEED, RANDOMIZE_SEED, WIDTH, HEIGHT, STEPS, api_name="/infer"
        )
        image = result[0]
        return str(image["url"] if isinstance(image, dict) else image.url)

    def job_file(self) -> int:
        if self._files is None:
            self._files = Client(self._url, download_files=self._dir.name, verbose=False)
        result: Any = self._files.predict(
            PROMPT, SEED, RANDOMIZE_SEED, WIDTH, HEIGHT, STEPS, api_name="/infer"
        )
        return os.path.getsize(str(result[0]))

    def close(self) -> None:
        self._client.close()
        if self._files is not None:
            self._files.close()
        self._dir.cleanup()


def connect(url: str, protocol: str, max_inflight: int) -> GradioClientSync:
    return GradioClientSync(url, max_inflight)
