"""The local Space for the ``flux`` command: ``--space local`` and ``flux serve-local``.

`flux_sdk.local.LocalSpace` runs a real Gradio replica of the Space in a subprocess of this
interpreter, so Gradio must be installed here: the ``local`` extra.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from contextlib import ExitStack
from typing import TYPE_CHECKING

from ._errors import LocalSpaceError, StartInterrupted, Terminated, UsageError

if TYPE_CHECKING:
    from ..local import LocalSpace

__all__ = ["LOCAL_MODELS", "require_gradio", "serve_local", "start_local_space"]

INSTALL_HINT = "pip install 'flux-sdk[local]'"
LOCAL_MODELS = {"flux-schnell": "schnell", "flux-dev": "dev"}
"""``--model`` to `LocalSpace`'s ``model``: the replica of that Space's API."""
_POLL_SECONDS = 0.5


def require_gradio() -> None:
    """Check that this interpreter can run the local Space.

    Raises:
        UsageError: Gradio is not importable here; the message says how to install it.
    """
    if importlib.util.find_spec("gradio") is None:
        raise UsageError(
            f"the local Space needs Gradio in this Python ({sys.executable}): {INSTALL_HINT}"
        )


def start_local_space(
    stack: ExitStack,
    *,
    port: int | None = None,
    faults: bool = False,
    model: str = "flux-schnell",
    step_delay: float | None = None,
) -> LocalSpace:
    """Start a `LocalSpace` that ``stack`` stops when it closes.

    Args:
        stack: Owns the Space: closing it stops the Space (also after Ctrl-C).
        port: Port on 127.0.0.1; None picks a free one.
        faults: Enable the prompt fault tags (``[quota]``, ``[error]``, ...).
        model: ``--model``: ``"flux-schnell"`` or ``"flux-dev"`` (FLUX.1-dev's API).
        step_delay: ``--step-delay``: seconds per inference step; None for `LocalSpace`'s
            default.

    Raises:
        UsageError: Gradio is not installed (see `require_gradio`).
        LocalSpaceError: The Space did not start.
        StartInterrupted: Ctrl-C or SIGTERM while it started (it has been stopped).
    """
    require_gradio()
    try:
        return _start(stack, port=port, faults=faults, model=model, step_delay=step_delay)
    except KeyboardInterrupt as exc:
        # Told apart from an interrupted job: there was none yet, nothing to cancel.
        raise StartInterrupted(terminated=isinstance(exc, Terminated)) from exc


def _start(
    stack: ExitStack, *, port: int | None, faults: bool, model: str, step_delay: float | None
) -> LocalSpace:
    from ..local import LocalSpace

    kind = LOCAL_MODELS[model]
    if step_delay is None:  # LocalSpace's own default
        space = LocalSpace(port=port, faults=faults, model=kind)
    else:
        space = LocalSpace(port=port, faults=faults, model=kind, step_delay=step_delay)
    # Registered first: Ctrl-C while it starts must not leave a server behind.
    stack.callback(space.stop)
    try:
        space.start()
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LocalSpaceError(f"the local Space did not start: {first}") from exc
    return space


def serve_local(
    *,
    port: int | None,
    faults: bool,
    model: str = "flux-schnell",
    step_delay: float | None = None,
) -> int:
    """Run the local Space in the foreground until Ctrl-C.

    The URL goes alone to stdout (for scripts); the explanation goes to stderr.

    Args:
        port: Port on 127.0.0.1; None picks a free one.
        faults: Enable the prompt fault tags.
        model: ``"flux-schnell"`` or ``"flux-dev"``: which Space's API the replica serves.
        step_delay: Seconds per inference step; None for `LocalSpace`'s default.

    Returns:
        0 after Ctrl-C or SIGTERM.

    Raises:
        UsageError: Gradio is not installed.
        LocalSpaceError: The Space did not start, or stopped by itself.
    """
    with ExitStack() as stack:
        space = start_local_space(
            stack, port=port, faults=faults, model=model, step_delay=step_delay
        )
        version = space.gradio_version
        name = "FLUX.1-dev" if model == "flux-dev" else "FLUX.1-schnell"
        tags = " (fault tags on: [error] [quota] [gpu] [crash] [slow] [info])" if faults else ""
        stopped = threading.Event()
        try:
            # Inside the try: once the URL is out, Ctrl-C is the normal way to stop.
            print(space.url, flush=True)
            print(
                f"local {name} Space (Gradio {version}) serving at {space.url}{tags}; "
                "Ctrl-C stops it",
                file=sys.stderr,
                flush=True,
            )
            while space.running:
                stopped.wait(_POLL_SECONDS)
        except KeyboardInterrupt:
            print("stopping the local Space", file=sys.stderr, flush=True)
            return 0
        tail = space.output.strip().splitlines()
    last = tail[-1] if tail else "no output"
    raise LocalSpaceError(f"the local Space stopped by itself: {last}")
