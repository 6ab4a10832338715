"""A real Gradio app with the FLUX.1-schnell Space's exact API that draws a placeholder image.

This file is run by path (``python _app.py --port N``) under any interpreter that has Gradio
4.44, 5.x or 6.x installed, so it imports only the standard library, ``gradio`` and what Gradio
itself depends on (``PIL``, ``numpy``, ``tqdm``). It never imports ``flux_sdk`` as a package.

The layout mirrors the Space's ``app.py`` component for component, so the ``/config`` ids match
the real Space: dependency 2 is ``infer`` (see ``tests/data/protocol/README.md`` §0). Instead of a
model, ``infer`` runs a real ``tqdm`` loop (so ``track_tqdm`` emits progress) and draws a
deterministic gradient with the prompt and seed written on it.

With ``--faults`` (or ``FLUX_LOCAL_FAULTS=1``) a leading tag in the prompt picks a failure:
``[error] text``, ``[quota]``, ``[gpu]``, ``[crash]``, ``[slow]`` or ``[info]``. The tags and
the texts the Space sends live in ``flux_sdk/_space_messages.py`` (standard library only), which
this file loads by its path; the fake Space (``flux_sdk.testing``) reads the same table.

Once the server accepts requests, the script prints exactly one line,
``FLUX-LOCAL-READY http://127.0.0.1:PORT``, and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import os

# Set before Gradio is imported: Gradio and huggingface_hub read these at import time, and
# nothing here may reach the internet (no analytics, no version check, no Hub lookups).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

import argparse
import hashlib
import importlib.util
import inspect
import ipaddress
import random
import signal
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, Final

import gradio as gr
import numpy as np
import tqdm
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "DEFAULT_STEP_DELAY",
    "MAX_IMAGE_SIZE",
    "MAX_SEED",
    "READY_PREFIX",
    "build_app",
    "main",
]


def _load(name: str) -> ModuleType:
    """``flux_sdk/<name>.py`` loaded by its path, without importing the package.

    The interpreter running this file has Gradio but may not have flux_sdk's dependencies, so
    the standard-library-only modules it shares with the SDK are read as lone modules rather
    than through ``flux_sdk/__init__.py``.
    """
    path = Path(__file__).resolve().parent.parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_flux{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from .. import _limits as limits
    from .. import _space_messages as messages
else:
    limits = _load("_limits")  # the Space's sliders, as the SDK validates against them
    messages = _load("_space_messages")  # the fault tags and what the Space says

MAX_SEED: Final = limits.MAX_SEED
"""Largest seed the Space accepts (int32 max, 2147483647)."""

MAX_IMAGE_SIZE: Final = limits.MAX_SIZE
"""Largest width or height the Space's sliders accept."""

READY_PREFIX: Final = "FLUX-LOCAL-READY"
"""Start of the single stdout line printed once the server is ready."""

DEFAULT_STEP_DELAY: Final = 0.15
"""Seconds per step by default: long enough for every step's progress to reach the wire.

Gradio does not send a progress message per update: a background task wakes every 0.1 s
(``Queue.start_progress_updates`` in ``gradio/queueing.py``; 0.01 s on Gradio 6 off Windows)
and sends only the latest pending update, so a step shorter than one wake-up can be
overwritten by the next one unseen. Measured on Gradio 4.44 and 5.50 with both cores busy,
0.1 s and 0.125 s still lost steps; 0.15 s lost none.
"""


_SPACES: Final = ("flux-schnell", "flux-dev")
"""The Spaces whose API the app serves, by the SDK's aliases (``space=`` of the clients)."""
_GRADIO_MAJOR: Final = int(gr.__version__.split(".", 1)[0])
_MIN_SIDE: Final = 8
_SAMPLE_TEXT: Final = "the quick brown fox jumps over a lazy dog 0123"

_DESCRIPTION: Final = """# FLUX.1 [schnell] (local placeholder)
12B param rectified flow transformer distilled from FLUX.1 [pro] for 4 step generation -
local replica of the Space's API that draws a placeholder image instead of running the model.
"""
_CSS: Final = """
#col-container {
    margin: 0 auto;
    max-width: 520px;
}
"""
_EXAMPLES: Final = [
    "a tiny astronaut hatching from an egg on the moon",
    "a cat holding a sign that says hello world",
    "an anime illustration of a wiener schnitzel",
]


# The toast levels of messages.INFO_TOASTS (gr.Success is not on Gradio 4).
_TOASTS: Final[dict[str, Callable[..., Any]]] = {"info": gr.Info, "warning": gr.Warning}


def _accepts(func: Callable[..., Any], name: str) -> bool:
    """Tell whether ``func`` takes a parameter called ``name`` in the installed Gradio."""
    return name in inspect.signature(func).parameters


def _supported(func: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """Keep only the keyword arguments that ``func`` accepts in the installed Gradio."""
    parameters = inspect.signature(func).parameters
    return {key: value for key, value in kwargs.items() if key in parameters}


def _zerogpu_error(message: str, title: str) -> gr.Error:
    """Build a ``gr.Error`` the way ZeroGPU does; ``title=`` only exists on Gradio >= 5."""
    if _accepts(gr.Error.__init__, "title"):
        return gr.Error(message, title=title)
    return gr.Error(message)


def _placeholder_image(prompt: str, seed: object, width: int, height: int) -> Image.Image:
    """Draw the deterministic placeholder: a gradient keyed on (prompt, seed), with captions.

    Args:
        prompt: The prompt, written on the image.
        seed: The seed, written on the image.
        width: Image width in pixels.
        height: Image height in pixels.

    Returns:
        An RGB image; the same arguments always give the same pixels.

    """
    digest = hashlib.sha256(f"{prompt}\x00{seed}".encode()).digest()
    start = np.frombuffer(digest[0:3], dtype=np.uint8).astype(np.float32)
    end = np.frombuffer(digest[3:6], dtype=np.uint8).astype(np.float32)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    weight = ((xs + ys) / 2.0)[:, :, None]
    pixels = start * (1.0 - weight) + end * weight
    # A convex mix of two uint8 colours stays within 0..255, so no clipping is needed.
    image = Image.fromarray(pixels.astype(np.uint8), mode="RGB")

    draw = ImageDraw.Draw(image)
    font = _default_font(max(10, min(64, min(width, height) // 24)))
    luminance = float(np.dot((start + end) / 2.0, np.array([0.299, 0.587, 0.114])))
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    margin = max(2, width // 32)
    char_width = max(1.0, float(draw.textlength(_SAMPLE_TEXT, font=font)) / len(_SAMPLE_TEXT))
    line_height = max(8, int(draw.textbbox((0, 0), "Mg", font=font)[3]) + 2)
    columns = max(1, int((width - 2 * margin) // char_width))
    caption = f"seed {seed} \u00b7 placeholder"
    room = max(0, (height - 2 * margin) // line_height - 1)
    lines = textwrap.wrap(prompt, width=columns)[:room]
    for index, line in enumerate([*lines, caption]):
        _draw_line(draw, (margin, margin + index * line_height), line, ink, font)
    return image


def _default_font(size: int) -> Any:
    """Return Pillow's default font at ``size`` px where Pillow supports sizing it."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):
        # Pillow < 10.1 or without FreeType: only the fixed-size bitmap font exists.
        return ImageFont.load_default()


def _draw_line(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    ink: tuple[int, int, int],
    font: Any,
) -> None:
    """Draw one line of text, degrading characters the default font cannot encode."""
    try:
        draw.text(xy, text, fill=ink, font=font)
    except UnicodeEncodeError:
        # Pillow without FreeType falls back to a Latin-1 bitmap font.
        draw.text(xy, text.encode("latin-1", "replace").decode("latin-1"), fill=ink, font=font)


def build_app(
    *,
    faults: bool = False,
    step_delay: float = DEFAULT_STEP_DELAY,
    scale: int = 1,
    concurrency_limit: int | None = 1,
    max_size: int | None = None,
    space: str = "flux-schnell",
    always: str | None = None,
) -> gr.Blocks:
    """Build the Blocks app with the FLUX.1-schnell (or FLUX.1-dev) Space's components and API.

    Args:
        space: ``"flux-schnell"``, or ``"flux-dev"`` for the FLUX.1-dev Space's API: ``infer``
            also takes ``guidance_scale`` (before the steps) and, as a generator, streams a
            preview image per step before the final one (README §12).
        always: A fault tag (e.g. ``"quota"``) applied to every prompt: a Space that always
            fails that way, for tests of pools and failover.
        faults: Honour the prompt tags (``[error]``, ``[quota]``, ``[gpu]``, ``[crash]``,
            ``[slow]``, ``[info]``) described in the module docstring.
        step_delay: Seconds slept per inference step. The default (``DEFAULT_STEP_DELAY``,
            0.15) is the shortest with which Gradio sends every step's progress; with 0 it
            sends almost none.
        scale: Divide the requested width and height by this factor (at least 8x8 pixels).
        concurrency_limit: Jobs run at once; 1 is the Space's default, None is unlimited.
        max_size: Queue capacity (``demo.queue(max_size=...)``); None is unbounded, as on the Space.

    Returns:
        The app, with its queue configured and not yet launched.

    Raises:
        ValueError: If ``scale`` is below 1 or ``step_delay`` is negative.

    """
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if step_delay < 0:
        raise ValueError(f"step_delay must be >= 0, got {step_delay}")
    if space not in _SPACES:
        raise ValueError(f"space must be one of {', '.join(_SPACES)}, got {space!r}")
    if always is not None and always not in messages.FAULT_TAGS:
        raise ValueError(f"always must be a fault tag name, got {always!r}")

    def fault(prompt: str) -> tuple[str, str] | None:
        if always is not None:
            return messages.fault_tag(f"[{always}] {prompt}")
        return messages.fault_tag(prompt) if faults else None

    # infer and infer_dev spell out their parameters: Gradio builds the API (/info, the inputs'
    # order and defaults) from each function's signature, as the real Spaces' own do.
    def infer(
        prompt: str,
        seed: int = 42,
        randomize_seed: bool = False,
        width: int = 1024,
        height: int = 1024,
        num_inference_steps: int = 4,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's idiom)
    ) -> tuple[Image.Image, int]:
        """Generate a placeholder image, like the Space's ``infer``.

        Args:
            prompt: What to draw (here: written on the image).
            seed: Seed used unless ``randomize_seed`` is true.
            randomize_seed: Pick a random seed in ``[0, MAX_SEED]`` instead.
            width: Requested width in pixels.
            height: Requested height in pixels.
            num_inference_steps: Length of the progress loop.
            progress: Gradio's tracker; ``track_tqdm`` turns the tqdm loop into progress events.

        Returns:
            The image and the seed actually used.

        Raises:
            gradio.Error: For the ``[error]``, ``[quota]`` and ``[gpu]`` fault tags.
            RuntimeError: For the ``[crash]`` fault tag.

        """
        delay = step_delay
        # str(): the wire may carry a number or null as the prompt (README §3.5).
        match = fault(str(prompt))
        if match is not None:
            tag, text = match
            # ZeroGPU fails inside @spaces.GPU before the function body, so no progress first.
            if tag == "error":
                raise gr.Error(text or messages.ERROR_TEXT)
            if tag == "quota":
                raise _zerogpu_error(messages.quota_message(), messages.QUOTA_TITLE)
            if tag == "gpu":
                raise _zerogpu_error(messages.GPU_TIMEOUT_MESSAGE, messages.GPU_TIMEOUT_TITLE)
            if tag in messages.ZEROGPU_ERRORS:
                error = messages.ZEROGPU_ERRORS[tag]
                raise _zerogpu_error(error.message, error.title)
            if tag == "crash":
                raise RuntimeError(messages.CRASH_TEXT)
            if tag == "slow":
                delay = messages.SLOW_STEP_DELAY
            if tag == "info":
                for toast in messages.INFO_TOASTS:
                    show = _TOASTS[toast.level]
                    show(toast.message, **_supported(show, title=toast.title))

        if randomize_seed:
            seed = random.randint(0, MAX_SEED)
        for _ in tqdm.tqdm(range(int(num_inference_steps))):
            time.sleep(delay)
        return _render(prompt, seed, width, height), seed

    def _render(prompt: str, seed: int, width: int, height: int, note: str = "") -> Image.Image:
        return _placeholder_image(
            f"{prompt}{note}",
            seed,
            max(_MIN_SIDE, round(width / scale)),
            max(_MIN_SIDE, round(height / scale)),
        )

    def infer_dev(
        prompt: str,
        seed: int = 42,
        randomize_seed: bool = False,
        width: int = 1024,
        height: int = 1024,
        guidance_scale: float = 3.5,
        num_inference_steps: int = 28,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's idiom)
    ) -> Iterator[tuple[Image.Image, int]]:
        """FLUX.1-dev's ``infer``: a generator yielding a preview per step, then the image."""
        match = fault(str(prompt))
        if match is not None and match[0] != "slow":
            # The fault tags behave as on schnell; run them through its infer.
            yield infer(prompt, seed, randomize_seed, width, height, 1)
            return
        delay = messages.SLOW_STEP_DELAY if match is not None else step_delay
        if randomize_seed:
            seed = random.randint(0, MAX_SEED)
        steps = int(num_inference_steps)
        for step in tqdm.tqdm(range(steps)):
            time.sleep(delay)
            if step < steps - 1:
                yield _render(str(prompt), seed, width, height, f" (preview {step + 1})"), seed
        yield _render(str(prompt), seed, width, height), seed

    # Gradio names the endpoint after the function: it must be "infer", as on the Space.
    infer_dev.__name__ = infer_dev.__qualname__ = "infer"

    with warnings.catch_warnings():
        # Gradio 5 deprecates both Blocks(css=) and cache_examples="lazy" but has no alternative
        # for the first, and the Space uses the second; the warnings are noise here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        dev = space == "flux-dev"
        demo = _layout(infer_dev if dev else infer, dev=dev)
    demo.queue(max_size=max_size, default_concurrency_limit=concurrency_limit)
    return demo


def _layout(infer: Callable[..., Any], *, dev: bool = False) -> gr.Blocks:
    """Lay out the Space's components and wire ``infer`` exactly as its ``app.py`` does."""
    # Gradio 6 moved css= from Blocks() to launch().
    blocks_css: dict[str, Any] = {"css": _CSS} if _GRADIO_MAJOR < 6 else {}
    demo = gr.Blocks(analytics_enabled=False, **blocks_css)
    with demo:
        with gr.Column(elem_id="col-container"):
            gr.Markdown(_DESCRIPTION)
            with gr.Row():
                prompt = gr.Text(
                    label="Prompt",
                    show_label=False,
                    max_lines=1,
                    placeholder="Enter your prompt",
                    container=False,
                )
                run_button = gr.Button("Run", scale=0)
            result = gr.Image(label="Result", show_label=False)
            with gr.Accordion("Advanced Settings", open=False):
                seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
                randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
                with gr.Row():
                    width = gr.Slider(
                        label="Width",
                        minimum=limits.MIN_SIZE,
                        maximum=MAX_IMAGE_SIZE,
                        step=limits.SIZE_STEP,
                        value=limits.DEFAULT_SIZE,
                    )
                    height = gr.Slider(
                        label="Height",
                        minimum=limits.MIN_SIZE,
                        maximum=MAX_IMAGE_SIZE,
                        step=limits.SIZE_STEP,
                        value=limits.DEFAULT_SIZE,
                    )
                with gr.Row():
                    # FLUX.1-dev adds a guidance slider, and defaults to 28 steps.
                    guidance_scale = (
                        gr.Slider(
                            label="Guidance Scale",
                            # Ints, as the Space's app.py passes them: Gradio's range errors
                            # print them ("maximum value 15.").
                            minimum=int(limits.MIN_GUIDANCE),
                            maximum=int(limits.MAX_GUIDANCE),
                            step=0.1,
                            value=limits.DEV_GUIDANCE,
                        )
                        if dev
                        else None
                    )
                    num_inference_steps = gr.Slider(
                        label="Number of inference steps",
                        minimum=limits.MIN_STEPS,
                        maximum=limits.MAX_STEPS,
                        step=1,
                        value=limits.DEV_STEPS if dev else limits.SCHNELL_STEPS,
                    )
            # Gradio 6 rejects cache_examples="lazy" (README §0); 4 and 5 take it like the Space.
            cache: dict[str, Any] = (
                {"cache_examples": True, "cache_mode": "lazy"}
                if _GRADIO_MAJOR >= 6
                else {"cache_examples": "lazy"}
            )
            gr.Examples(  # pyright: ignore[reportUnknownMemberType]  (fn is typed (...) -> Unknown)
                examples=_EXAMPLES,
                fn=infer,
                inputs=[prompt],
                outputs=[result, seed],
                **cache,
            )
        # Gradio's own annotation of gr.on's triggers has unknown parts.
        gr.on(  # pyright: ignore[reportUnknownMemberType]
            triggers=[run_button.click, prompt.submit],
            fn=infer,
            inputs=[
                prompt,
                seed,
                randomize_seed,
                width,
                height,
                *([guidance_scale] if guidance_scale is not None else []),
                num_inference_steps,
            ],
            outputs=[result, seed],
        )
    return demo


def _loopback_url(host: str, port: int) -> str:
    """Return the base URL for ``host:port``, refusing any non-loopback host."""
    if host != "localhost":
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is None or not address.is_loopback:
            raise SystemExit(f"--host must be a loopback address, got {host!r}")
        if address.version == 6:
            return f"http://[{host}]:{port}"
    return f"http://{host}:{port}"


def _concurrency(value: str) -> int | None:
    """Parse ``--concurrency-limit``: a positive integer, or ``none`` for unlimited."""
    if value.lower() == "none":
        return None
    limit = int(value)
    if limit < 1:
        raise argparse.ArgumentTypeError("must be >= 1 or 'none'")
    return limit


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Local FLUX.1-schnell Space: the real API, a placeholder image."
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument(
        "--concurrency-limit",
        type=_concurrency,
        default=1,
        help="jobs run at once (default 1, as on the Space; 'none' = unlimited)",
    )
    parser.add_argument("--max-size", type=int, default=None, help="queue capacity")
    parser.add_argument(
        "--faults",
        action="store_true",
        default=os.environ.get("FLUX_LOCAL_FAULTS", "") == "1",
        help="enable prompt fault tags (" + ", ".join(f"[{t}]" for t in messages.FAULT_TAGS) + ")",
    )
    parser.add_argument(
        "--step-delay",
        type=float,
        default=DEFAULT_STEP_DELAY,
        help=f"seconds per step (default {DEFAULT_STEP_DELAY}: every step's progress is sent)",
    )
    parser.add_argument("--scale", type=int, default=1, help="divide the image size by this")
    parser.add_argument(
        "--space", choices=_SPACES, default="flux-schnell", help="which Space's API"
    )
    parser.add_argument(
        "--always",
        choices=messages.FAULT_TAGS,
        default=None,
        help="apply this fault tag to every prompt (a Space that always fails that way)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the app until SIGTERM or SIGINT.

    Args:
        argv: Command-line arguments without the program name; None reads ``sys.argv``.

    Returns:
        The process exit status.

    """
    args = _parse_args(argv)
    url = _loopback_url(args.host, args.port)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    demo = build_app(
        faults=args.faults,
        step_delay=args.step_delay,
        scale=args.scale,
        concurrency_limit=args.concurrency_limit,
        max_size=args.max_size,
        space=args.space,
        always=args.always,
    )
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=False,
        prevent_thread_lock=True,
        quiet=True,
        inbrowser=False,
        show_error=False,
        **_supported(demo.launch, ssr_mode=False, mcp_server=False, css=_CSS),
    )
    try:
        print(f"{READY_PREFIX} {url}", flush=True)
        stop.wait()
    finally:
        demo.close(verbose=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
