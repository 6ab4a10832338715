"""The Quickstart's main job: generate an image, offline, against the built-in local Space.

Run with ``nox -s demo``, or ``python examples/quickstart.py [SPACE_URL]`` to use a real Space.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

from flux_sdk import Completed, FluxClient, Log, Progress, Queued, Started
from flux_sdk.local import LocalSpace


def main(argv: list[str]) -> int:
    """Generate ``fox.webp`` and print each event on the way."""
    with ExitStack() as stack:
        if argv:
            url = argv[0]
        else:
            print("starting the local Space (a real Gradio app with the Space's API)...")
            url = stack.enter_context(LocalSpace()).url
        client = stack.enter_context(FluxClient(url))
        with client.stream(
            "a red fox in fresh snow", width=768, height=512, seed=7, randomize_seed=False
        ) as events:
            for event in events:
                if isinstance(event, Queued):
                    print(f"queued: position {event.rank}, {event.queue_size} waiting")
                elif isinstance(event, Started):
                    print("started")
                elif isinstance(event, Progress):
                    print(f"step {event.step + 1}/{event.total}")
                elif isinstance(event, Log):
                    print(f"{event.level}: {event.message}")
                elif isinstance(event, Completed):
                    image = event.generation
                    path = client.save(image, Path("fox.webp"))
                    size = f"{image.request.width}×{image.request.height}"
                    print(f"saved {path} ({size}, seed {image.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
