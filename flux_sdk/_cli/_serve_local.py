"""``flux serve-local``: run the local Space in the foreground until Ctrl-C."""

from __future__ import annotations

import sys
import threading
from contextlib import ExitStack

from ._args import ServeLocalOptions
from ._errors import ExitCode, LocalSpaceError
from ._local import start_local_space

__all__ = ["serve_local_command"]

_POLL_SECONDS = 0.5
_NAMES = {"flux-schnell": "FLUX.1-schnell", "flux-dev": "FLUX.1-dev"}


def serve_local_command(options: ServeLocalOptions) -> int:
    """Run the local Space in the foreground until Ctrl-C.

    The URL goes alone to stdout (for scripts); the explanation goes to stderr.

    Returns:
        0 after Ctrl-C or SIGTERM.

    Raises:
        UsageError: Gradio is not installed.
        LocalSpaceError: The Space did not start, or stopped by itself.
    """
    with ExitStack() as stack:
        space = start_local_space(
            stack,
            port=options.port,
            faults=options.faults,
            space=options.space,
            step_delay=options.step_delay,
        )
        version = space.gradio_version
        name = _NAMES[options.space]
        tags = " (fault tags on: [error] [quota] [gpu] [crash] [slow] [info])"
        stopped = threading.Event()
        try:
            # Inside the try: once the URL is out, Ctrl-C is the normal way to stop.
            print(space.url, flush=True)
            print(
                f"local {name} Space (Gradio {version}) serving at {space.url}"
                f"{tags if options.faults else ''}; Ctrl-C stops it",
                file=sys.stderr,
                flush=True,
            )
            while space.running:
                stopped.wait(_POLL_SECONDS)
        except KeyboardInterrupt:
            print("stopping the local Space", file=sys.stderr, flush=True)
            return ExitCode.OK
        tail = space.output.strip().splitlines()
    last = tail[-1] if tail else "no output"
    raise LocalSpaceError(f"the local Space stopped by itself: {last}")
