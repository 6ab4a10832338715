"""A minimal ZeroGPU Space: the FLUX Space's ``infer`` under the real ``@spaces.GPU``.

Run by path under a Gradio server's interpreter, with one unpacked ``spaces`` version first on
``PYTHONPATH`` (``tests/zerogpu/conftest.py`` starts it). It imports only the standard library,
``gradio``, what Gradio depends on, and ``spaces``; never ``flux_sdk``.

What is real: ``spaces`` itself, switched on as on a ZeroGPU Space (``SPACES_ZERO_GPU=true``):
its ``@spaces.GPU`` wrapper, ``client.schedule`` with its own ``APIClient`` speaking HTTP, its
f-strings, its ``error()`` helper, its forked worker, and Gradio sending what it raised.

What is fake, and only that: the ZeroGPU *device API*, the HTTP service next to a real Space's
app that hands out GPUs (``SPACES_ZERO_DEVICE_API_URL``). Here it is a small HTTP server on a
thread of this process that answers ``/schedule`` as the prompt asks (see `_answer`), and
``/startup-report``, ``/allow`` and ``/release`` with 200. And the host's cgroup device path,
which ``spaces`` reads from ``/proc/self/cgroup`` to tell the device API which container asks:
a fixed string, since a test machine may have no cgroup-v1 ``devices`` line. No torch is
installed, so ``spaces``' own torch layer is its no-op fallback; no GPU is touched.

The prompt's first word picks the case; ``key=value`` words give its numbers::

    ok                      200: a GPU; the worker runs and returns an image
    crash                   200: a GPU; the task raises RuntimeError in the worker
    abort                   200: a GPU; the worker process dies (os._exit)
    quota left=12 wait=433 [auth=regular|pro]   429 {"left", "wait"} (wait in seconds)
    pending                 429 with X-Approve-Result: pending-overquota-exceeded
    illegal                 429 with a negative wait: the duration is over the maximum
    queue [auth=...]        200 text/event-stream: one ``failed`` event (queue timeout)
    nogpu                   503
    expired                 401

Whether the visitor has a ZeroGPU token (``X-IP-Token``) is up to the client's headers, as on
the Hub, where the Space's page adds it.

Every ``gr.Error`` that leaves ``infer`` is also written, as JSON lines, to the file named by
``FLUX_ZEROGPU_RECORD``: its prompt, ``str(error)``, its message as a plain ``str`` and its
title, so a test can compare what the SDK got with what was raised.

Once serving, the script prints ``FLUX-LOCAL-READY http://127.0.0.1:PORT`` (the line
`flux_sdk.local.LocalSpace` waits for) and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

import argparse
import inspect
import json
import signal
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from types import FrameType
from typing import Any

READY_PREFIX = "FLUX-LOCAL-READY"
_Task = Callable[[str, float, float, float], "tuple[Any, int]"]
FAKE_CGROUP = "/zerogpu-test"
_SCHEDULED = {"idle": False, "nvidiaIndex": 0, "nvidiaUUID": "GPU-zerogpu-test", "allowToken": "t"}


class _Case:
    """The case the running job asked for; jobs run one at a time (concurrency 1)."""

    name = "ok"
    params: dict[str, str] = {}  # noqa: RUF012 (replaced whole, never mutated)


def _parse(prompt: str) -> tuple[str, dict[str, str]]:
    name, *words = prompt.split()
    return name, dict(word.split("=", 1) for word in words if "=" in word)


def _answer(name: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """The device API's answer to ``POST /schedule`` for a case: status, headers, body."""
    headers = {"Content-Type": "application/json"}
    if "auth" in params:
        headers["X-Authenticated"] = params["auth"]
    if name in ("ok", "crash", "abort"):
        return 200, headers, json.dumps(_SCHEDULED).encode()
    if name == "quota":
        body = {"left": int(params.get("left", "12")), "wait": float(params.get("wait", "433"))}
        return 429, headers, json.dumps(body).encode()
    if name == "pending":
        headers["X-Approve-Result"] = "pending-overquota-exceeded"
        return 429, headers, json.dumps({"left": 0, "wait": 433}).encode()
    if name == "illegal":
        return 429, headers, json.dumps({"left": 0, "wait": -1}).encode()
    if name == "queue":
        headers["Content-Type"] = "text/event-stream"
        return 200, headers, b"event: failed\n\n"
    if name == "nogpu":
        return 503, headers, b""
    if name == "expired":
        return 401, headers, b""
    return 400, headers, json.dumps({"detail": f"unknown case {name!r}"}).encode()


class _DeviceAPI(BaseHTTPRequestHandler):
    """The fake ZeroGPU device API."""

    def do_POST(self) -> None:
        if self.path.startswith("/schedule"):
            status, headers, body = _answer(_Case.name, _Case.params)
        else:  # /startup-report, /allow, /release
            status, headers, body = 200, {"Content-Type": "application/json"}, b"null"
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _start_device_api() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DeviceAPI)
    threading.Thread(target=server.serve_forever, name="device-api", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def _record(prompt: str, error: Any) -> None:
    path = os.environ.get("FLUX_ZEROGPU_RECORD")
    if not path:
        return
    message = error.message
    entry = {
        "prompt": prompt,
        "str": str(error),
        # An HTMLString's str() is its text variant; as a plain str it is the HTML it holds.
        "message": str.__str__(message) if isinstance(message, str) else None,
        "title": getattr(error, "title", None),
    }
    with Path(path).open("a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")


def build_app() -> Any:
    """The app: one ``infer`` endpoint with the Space's inputs and outputs."""
    spaces = import_module("spaces")
    client = import_module("spaces.zero.client")
    client.utils.self_cgroup_device_path = lambda: FAKE_CGROUP
    gr = import_module("gradio")
    image_module = import_module("PIL.Image")

    gpu: Callable[[_Task], _Task] = spaces.GPU(duration=60)

    @gpu
    def run(prompt: str, seed: float, width: float, height: float) -> tuple[Any, int]:
        # In the forked worker, on the "GPU".
        if prompt.startswith("crash"):
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        if prompt.startswith("abort"):
            os._exit(1)
        return image_module.new("RGB", (int(width) // 32, int(height) // 32)), int(seed)

    def infer(
        prompt: str,
        seed: float,
        randomize_seed: bool,
        width: float,
        height: float,
        num_inference_steps: float,
        # The Space's infer takes one; spaces < 0.40 reads the progress context Gradio sets for it.
        progress: Any = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's idiom)
    ) -> tuple[Any, int]:
        _Case.name, _Case.params = _parse(prompt)
        try:
            image, used_seed = run(prompt, seed, width, height)
            return image, used_seed
        except gr.Error as error:
            _record(prompt, error)
            raise

    with gr.Blocks(analytics_enabled=False) as demo:
        prompt = gr.Text(label="Prompt")
        seed = gr.Slider(label="Seed", minimum=0, maximum=2147483647, step=1, value=0)
        randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
        width = gr.Slider(label="Width", minimum=256, maximum=2048, step=32, value=1024)
        height = gr.Slider(label="Height", minimum=256, maximum=2048, step=32, value=1024)
        steps = gr.Slider(label="Number of inference steps", minimum=1, maximum=50, step=1, value=4)
        result = gr.Image(label="Result")
        button = gr.Button("Run")
        button.click(
            fn=infer,
            inputs=[prompt, seed, randomize_seed, width, height, steps],
            outputs=[result, seed],
            api_name="infer",
        )
    demo.queue(default_concurrency_limit=1)
    return demo


def main() -> int:
    """Serve until SIGTERM or SIGINT.

    The same launch-and-wait as ``flux_sdk/local/_app.py``'s ``main``, which this script
    cannot import: it runs where flux_sdk is not installed.
    """
    parser = argparse.ArgumentParser(description="A minimal ZeroGPU Space for tests/zerogpu.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Before spaces is imported: it reads these once, at import.
    os.environ["SPACES_ZERO_GPU"] = "true"
    os.environ["SPACES_ZERO_DEVICE_API_URL"] = _start_device_api()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    demo = build_app()
    demo.launch(
        server_name="127.0.0.1",
        server_port=args.port,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        **({"ssr_mode": False} if "ssr_mode" in inspect.signature(demo.launch).parameters else {}),
    )
    try:
        print(f"{READY_PREFIX} http://127.0.0.1:{args.port}", flush=True)
        stop.wait()
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
