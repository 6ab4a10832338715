"""The local Space for the ``flux`` command: ``--url local`` and ``flux serve-local``.

`flux_sdk.local.LocalSpace` runs a real Gradio replica of the Space in a subprocess of this
interpreter, so Gradio must be installed here: the ``local`` extra.
"""

from __future__ import annotations

import importlib.util
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING

from ._args import DEFAULT_KIND, SpaceKind
from ._errors import LocalSpaceError, StartInterrupted, Terminated, UsageError

if TYPE_CHECKING:
    from ..local import LocalSpace

__all__ = ["INSTALL_HINT", "require_gradio", "start_local_space"]

INSTALL_HINT = "pip install 'flux-sdk[local]'"


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
    space: SpaceKind = DEFAULT_KIND,
    step_delay: float | None = None,
) -> LocalSpace:
    """Start a `LocalSpace` that ``stack`` stops when it closes.

    Args:
        stack: Owns the Space: closing it stops the Space (also after Ctrl-C).
        port: Port on 127.0.0.1; None picks a free one.
        faults: Enable the prompt fault tags (``[quota]``, ``[error]``, ...).
        space: ``--space``: the kind of Space whose API the replica serves.
        step_delay: ``--step-delay``: seconds per inference step; None for `LocalSpace`'s
            default.

    Raises:
        UsageError: Gradio is not installed (see `require_gradio`).
        LocalSpaceError: The Space did not start.
        StartInterrupted: Ctrl-C or SIGTERM while it started (it has been stopped).
    """
    require_gradio()
    try:
        return _start(stack, port=port, faults=faults, space=space, step_delay=step_delay)
    except KeyboardInterrupt as exc:
        # Told apart from an interrupted job: there was none yet, nothing to cancel.
        raise StartInterrupted(terminated=isinstance(exc, Terminated)) from exc


def _start(
    stack: ExitStack, *, port: int | None, faults: bool, space: SpaceKind, step_delay: float | None
) -> LocalSpace:
    from ..local import LocalSpace

    if step_delay is None:  # LocalSpace's own default
        local = LocalSpace(port=port, faults=faults, space=space)
    else:
        local = LocalSpace(port=port, faults=faults, space=space, step_delay=step_delay)
    # Registered first: Ctrl-C while it starts must not leave a server behind.
    stack.callback(local.stop)
    try:
        local.start()
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LocalSpaceError(f"the local Space did not start: {first}") from exc
    return local
