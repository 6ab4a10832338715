"""The Space's app the fake runs: FLUX.1-schnell or FLUX.1-dev, read from package data.

What Gradio answers on ``GET /config`` and ``GET {prefix}/info`` is static for a given app and
Gradio line, so it is kept as JSON under ``data/<space>/gradio-<major>/`` (captured from the
local replica, with the keys clients read) rather than built in code. Everything else the fake
needs to know about the app follows from those two files: the ``infer`` inputs in order, their
defaults, and the sliders Gradio checks values against.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

from .._spaces import FLUX_DEV, FLUX_SCHNELL, SpaceDescriptor, resolve_space
from ._gradio import GradioLine, Message

__all__ = ["INFER_FN_INDEX", "Rejection", "SpaceApp"]

INFER_FN_INDEX: Final = 2
"""The ``infer`` dependency's id on both Spaces (the Run button and the prompt's submit)."""

_EMULATED: Final = (FLUX_SCHNELL, FLUX_DEV)
# The data files' placeholder for the server's URL (``"version"`` is overwritten).
_ROOT: Final = "<root>"


@dataclass(frozen=True)
class Rejection:
    """Gradio refused the inputs before the app ran; ``message`` None hides the reason."""

    message: str | None


@dataclass(frozen=True)
class _Slider:
    """A slider input: where it is in the ``data`` list and the range Gradio enforces."""

    position: int
    minimum: float
    maximum: float


@dataclass(frozen=True)
class SpaceApp:
    """One emulated Space's app on one Gradio line.

    Attributes:
        descriptor: The SDK's descriptor of the Space (its name, inputs, ``previews``).
        line: The Gradio line serving it.
        inputs: The ``infer`` input names, in the order of the ``data`` list.
        defaults: Each input's default, as ``/info`` reports it (None for the prompt).
        previews: Whether ``infer`` is a generator that yields a preview image per step.
    """

    descriptor: SpaceDescriptor
    line: GradioLine
    inputs: tuple[str, ...]
    defaults: tuple[object, ...]
    previews: bool
    _sliders: tuple[_Slider, ...]

    @classmethod
    def load(cls, space: str | SpaceDescriptor, line: GradioLine) -> SpaceApp:
        """The app of ``space`` (an alias such as ``"flux-dev"``, or a shipped descriptor).

        Raises:
            ValueError: ``space`` is not FLUX.1-schnell or FLUX.1-dev.
        """
        try:
            descriptor = resolve_space(space)
        except ValueError:  # InvalidRequestError is a ValueError too
            descriptor = None
        if descriptor not in _EMULATED:
            names = ", ".join(repr(known.aliases[0]) for known in _EMULATED)
            raise ValueError(f"space must be one of {names} or their descriptors, got {space!r}")
        assert descriptor is not None
        info = _endpoint(_template(descriptor.aliases[0], line.major, "info"))
        config = _template(descriptor.aliases[0], line.major, "config")
        parameters = cast("list[dict[str, object]]", info["parameters"])
        return cls(
            descriptor=descriptor,
            line=line,
            inputs=tuple(str(parameter["parameter_name"]) for parameter in parameters),
            defaults=tuple(parameter["parameter_default"] for parameter in parameters),
            # What the descriptor promises the SDK's users is what the fake's infer does.
            previews=descriptor.previews,
            _sliders=_sliders(config),
        )

    def position(self, name: str) -> int:
        """Where input ``name`` is in the ``data`` list."""
        return self.inputs.index(name)

    @property
    def max_seed(self) -> int:
        """The seed slider's maximum: a randomized seed is drawn up to it."""
        seed = self.position("seed")
        return next(int(slider.maximum) for slider in self._sliders if slider.position == seed)

    def config(self, root: str) -> Message:
        """``GET /config`` for a server at ``root``."""
        body = _filled(_template(self.descriptor.aliases[0], self.line.major, "config"), root)
        body["version"] = self.line.version
        return body

    def info(self, root: str) -> Message:
        """``GET {prefix}/info`` for a server at ``root`` (Gradio 6 quotes it in snippets)."""
        return _filled(_template(self.descriptor.aliases[0], self.line.major, "info"), root)

    def check_inputs(self, data: Sequence[object]) -> Rejection | None:
        """Gradio's own checks of the ``data`` list, in its order; None when they pass.

        Too few values, and (on 5.x and 6.x) values a slider cannot compare, fail with a hidden
        exception; out-of-range slider values fail with Gradio's message on 5.x and 6.x only.
        """
        if len(data) < len(self.inputs):
            return Rejection(None)
        if not self.line.checks_ranges:
            return None
        for slider in self._sliders:
            value = data[slider.position]
            if not isinstance(value, (int, float)):
                return Rejection(None)  # TypeError: '<' not supported ...
            if value < slider.minimum:
                return Rejection(f"Value {value} is less than minimum value {slider.minimum}.")
            if value > slider.maximum:
                return Rejection(f"Value {value} is greater than maximum value {slider.maximum}.")
        return None

    def named_inputs(self, body: dict[str, object]) -> list[object]:
        """The ``data`` list for ``/call/v2/infer``'s named body (6.13+): missing names default."""
        return [
            body.get(name, default)
            for name, default in zip(self.inputs, self.defaults, strict=True)
        ]


@functools.cache
def _raw(space: str, major: int, name: str) -> str:
    resource = (
        importlib.resources.files(__name__.rpartition(".")[0]) / "data" / space / f"gradio-{major}"
    )
    resource = resource / f"{name}.json"
    return resource.read_text(encoding="utf-8")


def _template(space: str, major: int, name: str) -> Message:
    """A fresh copy of a data file (answers are mutated per request)."""
    return cast("Message", json.loads(_raw(space, major, name)))


def _endpoint(info: Message) -> Message:
    return cast("dict[str, Message]", info["named_endpoints"])["/infer"]


def _filled(value: Message, root: str) -> Message:
    return cast("Message", _fill(value, root))


def _fill(value: object, root: str) -> object:
    """``value`` with the server's URL in place of ``<root>``, in every string."""
    if isinstance(value, str):
        return value.replace(_ROOT, root) if _ROOT in value else value
    if isinstance(value, dict):
        items = cast("dict[str, object]", value).items()
        return {key: _fill(item, root) for key, item in items}
    if isinstance(value, list):
        return [_fill(item, root) for item in cast("list[object]", value)]
    return value


def _sliders(config: Message) -> tuple[_Slider, ...]:
    """The ``infer`` inputs that are sliders, from the dependency and its components."""
    dependencies = cast("list[Message]", config["dependencies"])
    infer = next(dep for dep in dependencies if dep["id"] == INFER_FN_INDEX)
    components = {
        cast(int, component["id"]): component
        for component in cast("list[Message]", config["components"])
    }
    sliders: list[_Slider] = []
    for position, component_id in enumerate(cast("list[int]", infer["inputs"])):
        component = components[component_id]
        if component["type"] == "slider":
            props = cast("dict[str, float]", component["props"])
            sliders.append(_Slider(position, props["minimum"], props["maximum"]))
    return tuple(sliders)
