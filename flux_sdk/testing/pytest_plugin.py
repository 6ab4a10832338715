"""The ``fake_space`` pytest fixture: a fresh `FakeSpace` per test.

Enable it in your top-level ``conftest.py``::

    pytest_plugins = ["flux_sdk.testing.pytest_plugin"]

and configure it per test (or module, or class) with the ``fake_space`` marker, whose keyword
arguments are `FakeSpace`'s::

    @pytest.mark.fake_space(gradio="4.44.1", max_size=2)
    def test_old_space(fake_space): ...

Importing this module is cheap: the fake itself is imported when the fixture first runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from .._spaces import SpaceDescriptor
    from ._space import FakeSpace

__all__ = ["fake_space"]

_T = TypeVar("_T")

_OPTIONS = ("gradio", "concurrency", "max_size", "faults", "step_delay", "url", "space")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_space`` marker."""
    config.addinivalue_line(
        "markers",
        "fake_space(**options): FakeSpace options for the fake_space fixture "
        "(gradio, concurrency, max_size, faults, step_delay, url, space)",
    )


@pytest.fixture
def fake_space(request: pytest.FixtureRequest) -> FakeSpace:
    """A new `FakeSpace` (Gradio 6.31 by default), set up by the closest ``fake_space`` marker.

    Give ``fake_space.url`` and ``http_transport=fake_space`` to the client under test.
    """
    from .._spaces import SpaceDescriptor
    from ._clock import DEFAULT_STEP_DELAY
    from ._space import FakeSpace

    marker = request.node.get_closest_marker("fake_space")
    options: dict[str, object] = dict(marker.kwargs) if marker is not None else {}
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown or (marker is not None and marker.args):
        raise pytest.UsageError(
            f"@pytest.mark.fake_space takes keyword arguments {', '.join(_OPTIONS)}; "
            f"got {', '.join(unknown) or 'positional arguments'}"
        )
    return FakeSpace(
        gradio=_option(options, "gradio", str, "6.31.0"),
        concurrency=_optional(options, "concurrency", int, 1),
        max_size=_optional(options, "max_size", int, None),
        faults=_option(options, "faults", bool, False),
        step_delay=_seconds(options.get("step_delay", DEFAULT_STEP_DELAY)),
        url=_option(options, "url", str, "http://127.0.0.1:7860"),
        space=_space(options.get("space", "flux-schnell"), SpaceDescriptor),
    )


def _option(options: dict[str, object], name: str, kind: type[_T], default: _T) -> _T:
    value = options.get(name, default)
    if not isinstance(value, kind):
        raise pytest.UsageError(f"fake_space({name}=...) must be a {kind.__name__}, got {value!r}")
    return value


def _optional(
    options: dict[str, object], name: str, kind: type[_T], default: _T | None
) -> _T | None:
    if options.get(name, default) is None:
        return None
    return _option(options, name, kind, default)


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise pytest.UsageError(f"fake_space(step_delay=...) must be a number, got {value!r}")
    return float(value)


def _space(value: object, descriptor: type[SpaceDescriptor]) -> str | SpaceDescriptor:
    if not isinstance(value, (str, descriptor)):
        raise pytest.UsageError(
            f"fake_space(space=...) must be an alias or a SpaceDescriptor, got {value!r}"
        )
    return value
