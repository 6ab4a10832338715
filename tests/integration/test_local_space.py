"""A local Space with the default settings streams progress the way the real Space does.

Gradio throttles progress (it sends the latest update every 0.1 s), so a replica whose steps
take no time streams almost none; the default ``step_delay`` is what makes every step arrive.
These tests start one default replica per Gradio line, and run the README's and the streaming
guide's progress examples against it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flux_sdk
import flux_sdk.local
from flux_sdk import FLUX_DEV, AsyncFluxClient, FluxClient, Progress
from flux_sdk.local import DEFAULT_STEP_DELAY, LocalSpace
from tests.docs.test_examples import EXAMPLES, Example

from .conftest import SERVERS

APP = Path(flux_sdk.local.__file__).with_name("_app.py")


@pytest.fixture(scope="module", params=sorted(SERVERS) or ["none"])
def default_space(request: pytest.FixtureRequest) -> Iterator[str]:
    """A replica per Gradio line with every setting at its default but the image size."""
    with LocalSpace(python=SERVERS[str(request.param)], scale=16) as space:
        yield space.url


def _example(path: str, marker: str) -> Example:
    """The one example in ``path`` whose code contains ``marker``."""
    found = [e for e in EXAMPLES if e.path.name == path and marker in e.code]
    assert len(found) == 1, (path, marker, found)
    return found[0]


def _run(example: Example, url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run a docs example with the clients' default Space (the public one) replaced by ``url``."""

    class LocalFluxClient(FluxClient):
        def __init__(self, base_url: Any = None, **kwargs: Any) -> None:
            super().__init__(base_url or url, **kwargs)

    class LocalAsyncFluxClient(AsyncFluxClient):
        def __init__(self, base_url: Any = None, **kwargs: Any) -> None:
            super().__init__(base_url or url, **kwargs)

    monkeypatch.setattr(flux_sdk, "FluxClient", LocalFluxClient)
    monkeypatch.setattr(flux_sdk, "AsyncFluxClient", LocalAsyncFluxClient)
    monkeypatch.chdir(tmp_path)
    exec(compile(example.code, str(example.path), "exec"), {"__name__": "__main__"})


def _sampled_steps(steps: list[int], *, total: int) -> bool:
    """Whether ``steps`` is what Gradio's progress throttle can deliver for a ``total``-step job.

    Gradio sends only the latest progress update every 0.1 s (queueing.py,
    ``start_progress_updates``), so on a loaded machine a step can be overwritten unseen: the
    guarantee is at least one event, steps strictly increasing, each below ``total``.
    """
    return bool(steps) and steps == sorted(set(steps)) and all(0 <= s < total for s in steps)


def test_every_step_streams_a_progress_event(default_space: str) -> None:
    with FluxClient(default_space) as client, client.stream("a fox") as events:
        steps = [event.step for event in events if isinstance(event, Progress)]
    assert _sampled_steps(steps, total=4)


def test_readme_stream_example_prints_progress(
    default_space: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _run(_example("README.md", "print(event)"), default_space, monkeypatch, tmp_path)
    printed = capsys.readouterr().out.splitlines()
    progress = [line for line in printed if line.startswith("type='progress'")]
    steps = [int(line.split()[1].removeprefix("step=")) for line in progress]
    assert progress == [f"type='progress' step={step} total=4 unit='steps'" for step in steps]
    assert _sampled_steps(steps, total=4)


def test_readme_async_example_prints_progress_on_asyncio_and_trio(
    default_space: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _run(_example("README.md", 'backend="trio"'), default_space, monkeypatch, tmp_path)
    printed = capsys.readouterr().out.splitlines()
    # Two runs, asyncio then trio; each stream ends with its image's URL.
    runs: list[list[int]] = [[]]
    for line in printed:
        if line.endswith("/4 steps"):
            runs[-1].append(int(line.split("/")[0]))
        elif line.startswith("http"):
            runs.append([])
    assert runs[-1] == []
    assert len(runs) == 3
    assert all(_sampled_steps(steps, total=4) for steps in runs[:2])


def test_leaving_early_example_sees_progress_and_leaves(
    default_space: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _run(_example("streaming.md", "seen enough; cancelling"), default_space, monkeypatch, tmp_path)
    assert capsys.readouterr().out == "seen enough; cancelling\n"


def test_the_app_run_by_path_has_the_same_default() -> None:
    """``_app.py`` cannot import the package, so it repeats the constant: they must agree."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    values = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "DEFAULT_STEP_DELAY"
    ]
    assert len(values) == 1
    assert values[0] is not None
    assert ast.literal_eval(values[0]) == DEFAULT_STEP_DELAY


def test_the_space_is_named_as_the_clients_name_it() -> None:
    """``space=`` takes the clients' names of a Space; ``model=`` is its older spelling."""
    assert LocalSpace().space == "flux-schnell"
    assert LocalSpace(space="flux-dev").space == "flux-dev"
    assert LocalSpace(space=FLUX_DEV).model == "dev"
    assert LocalSpace(space="flux").space == "flux-schnell"  # an alias of FLUX.1-schnell
    assert LocalSpace(model="dev").space == "flux-dev"
    with pytest.raises(ValueError, match="space must be"):
        LocalSpace(space="flux-pro")
    with pytest.raises(ValueError, match="model must be"):
        LocalSpace(model="pro")
    with pytest.raises(ValueError, match="different Spaces"):
        LocalSpace(space="flux-dev", model="schnell")
