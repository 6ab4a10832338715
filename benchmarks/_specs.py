"""The clients under test, and which floor each is measured against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["sync", "async"]


@dataclass(frozen=True)
class Spec:
    """One client run: a module under ``benchmarks.clients`` with a protocol."""

    key: str
    label: str
    module: str
    protocol: Literal["queue", "call"]
    mode: Mode
    imports: str
    """The statement whose cold import time is this client's."""
    floor: str | None
    """The key of the floor this client is compared with; None for a floor itself."""


_FLOOR_ASYNC = "import asyncio, httpx"
_FLOOR_SYNC = "import httpx"
_FLUX_ASYNC = "from flux_sdk import AsyncFluxClient"
_FLUX_SYNC = "from flux_sdk import FluxClient"

SPECS: tuple[Spec, ...] = (
    Spec("floor-async-queue", "floor: httpx.AsyncClient", "raw_async", "queue", "async",
         _FLOOR_ASYNC, None),
    Spec("flux-async-queue", "flux_sdk AsyncFluxClient", "flux_async", "queue", "async",
         _FLUX_ASYNC, "floor-async-queue"),
    Spec("floor-async-call", "floor: httpx.AsyncClient", "raw_async", "call", "async",
         _FLOOR_ASYNC, None),
    Spec("flux-async-call", "flux_sdk AsyncFluxClient", "flux_async", "call", "async",
         _FLUX_ASYNC, "floor-async-call"),
    Spec("g4f-aiohttp", "gpt4free request logic (aiohttp)", "g4f_aiohttp", "call", "async",
         "import asyncio, aiohttp", "floor-async-call"),
    Spec("floor-sync-queue", "floor: httpx.Client", "raw_sync", "queue", "sync",
         _FLOOR_SYNC, None),
    Spec("flux-sync-queue", "flux_sdk FluxClient", "flux_sync", "queue", "sync",
         _FLUX_SYNC, "floor-sync-queue"),
    Spec("gradio_client", "gradio_client Client.predict", "gradio_client_sync", "queue", "sync",
         "from gradio_client import Client", "floor-sync-queue"),
    Spec("floor-sync-call", "floor: httpx.Client", "raw_sync", "call", "sync",
         _FLOOR_SYNC, None),
    Spec("flux-sync-call", "flux_sdk FluxClient", "flux_sync", "call", "sync",
         _FLUX_SYNC, "floor-sync-call"),
)  # fmt: skip

BY_KEY = {spec.key: spec for spec in SPECS}

DEPS_IMPORT = "import httpx, httpx_sse, pydantic, anyio"
"""flux_sdk's own dependencies, imported as a user of them would (the issue's comparison)."""

FLUX_IMPORT = "import flux_sdk"
"""The issue's statement. flux_sdk's names load lazily (PEP 562), so this alone is cheap."""

FLUX_USE_IMPORT = "from flux_sdk import AsyncFluxClient, FluxClient"
"""What using flux_sdk costs: the clients, and with them everything they need."""
