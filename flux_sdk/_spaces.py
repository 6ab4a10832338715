"""What the SDK knows about a Space, as data: URL, endpoint, inputs, defaults, limits, aliases.

FLUX.1-schnell and FLUX.1-dev ship here. Another Gradio text-to-image Space of the same kind is
one more `SpaceDescriptor`, no fork needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._errors import InvalidRequestError
from ._limits import DEFAULT_SIZE, DEV_GUIDANCE, DEV_STEPS, DEV_URL, SCHNELL_STEPS, SCHNELL_URL
from ._models import GenerateParams, GenerateRequest

__all__ = ["FLUX_DEV", "FLUX_SCHNELL", "SPACES", "Limit", "SpaceDescriptor", "resolve_space"]

_PARAMETERS = ("seed", "randomize_seed", "width", "height", "num_inference_steps", "guidance_scale")


@dataclass(frozen=True)
class Limit:
    """A numeric input's allowed range, as the Space's slider defines it.

    Attributes:
        minimum: The smallest value.
        maximum: The largest value.
        step: Values must be multiples of this, or None.
    """

    minimum: float
    maximum: float
    step: float | None = None

    def describe(self) -> str:
        """The range in words, for error messages."""
        text = f"from {self.minimum:g} to {self.maximum:g}"
        return f"a multiple of {self.step:g} {text}" if self.step else text

    def allows(self, value: float) -> bool:
        """Whether ``value`` is in range and on the step grid."""
        if not self.minimum <= value <= self.maximum:
            return False
        return not self.step or (value / self.step).is_integer()


@dataclass(frozen=True)
class SpaceDescriptor:
    """A Gradio text-to-image Space the SDK can drive.

    Attributes:
        name: A display name, e.g. ``"FLUX.1-schnell"``.
        url: The Space's base URL.
        inputs: The endpoint's input names in the order of its ``data`` list. The first is
            always ``"prompt"``; the others are `GenerateRequest` fields.
        defaults: Values for inputs the caller leaves out (the Space's UI values).
        limits: Extra limits this Space sets on top of `GenerateRequest`'s own.
        aliases: Short names that select this Space, e.g. ``("flux-schnell", "flux")``.
        api_name: The endpoint's Gradio api_name.
        previews: Whether the Space streams intermediate images (`Preview` events); the fake
            Space (``flux_sdk.testing``) runs a generator ``infer`` when it is true.

    Example:
        >>> mine = SpaceDescriptor(
        ...     name="my FLUX", url="https://me-my-flux.hf.space",
        ...     inputs=FLUX_SCHNELL.inputs, defaults=FLUX_SCHNELL.defaults)
    """

    name: str
    url: str
    inputs: tuple[str, ...]
    # Named factories, not lambdas: the API reference shows a default as its factory's call.
    defaults: GenerateParams = field(default_factory=GenerateParams)
    limits: Mapping[str, Limit] = field(default_factory=dict[str, Limit])  # read-only after init
    aliases: tuple[str, ...] = ()
    api_name: str = "infer"
    previews: bool = False

    def __post_init__(self) -> None:
        if not self.inputs or self.inputs[0] != "prompt":
            raise ValueError("SpaceDescriptor.inputs must start with 'prompt'")
        unknown = set(self.inputs[1:]) - set(_PARAMETERS)
        if unknown:
            raise ValueError(f"SpaceDescriptor.inputs has unknown names: {sorted(unknown)}")
        # Copies, so a caller's dict changed later does not change the descriptor.
        object.__setattr__(self, "defaults", GenerateParams(**self.defaults))
        object.__setattr__(self, "limits", MappingProxyType(dict(self.limits)))

    def request(self, prompt: str, params: GenerateParams) -> GenerateRequest:
        """A validated request: this Space's defaults, overridden by ``params``."""
        for name, value in dict(params).items():
            if name not in self.inputs:
                raise InvalidRequestError(name, value, f"left out: {self.name} has no {name}")
        values = GenerateParams(**self.defaults)
        values.update(params)
        request = GenerateRequest(prompt=prompt, **values)
        self.check(request)
        return request

    def check(self, request: GenerateRequest) -> None:
        """Raise `InvalidRequestError` if ``request`` does not fit this Space."""
        for name, limit in self.limits.items():
            value = getattr(request, name, None)
            if isinstance(value, int | float) and not limit.allows(value):
                raise InvalidRequestError(name, value, limit.describe())
        if request.guidance_scale is not None and "guidance_scale" not in self.inputs:
            raise InvalidRequestError(
                "guidance_scale", request.guidance_scale, f"left out: {self.name} has none"
            )

    def data(self, request: GenerateRequest) -> list[object]:
        """The Gradio ``data`` list for ``request``, in this Space's input order."""
        defaults: Mapping[str, object] = self.defaults
        values: list[object] = []
        for name in self.inputs:
            value = getattr(request, name)
            values.append(defaults.get(name) if value is None else value)
        return values


FLUX_SCHNELL = SpaceDescriptor(
    name="FLUX.1-schnell",
    url=SCHNELL_URL,
    inputs=("prompt", "seed", "randomize_seed", "width", "height", "num_inference_steps"),
    # Each Space's defaults in full, to read against that Space's app: the values the two share
    # are each app's choice, not one rule.
    defaults=GenerateParams(
        seed=0,
        randomize_seed=True,
        width=DEFAULT_SIZE,
        height=DEFAULT_SIZE,
        num_inference_steps=SCHNELL_STEPS,
    ),
    aliases=("flux-schnell", "flux", "black-forest-labs/FLUX.1-schnell"),
)
"""The public FLUX.1-schnell Space (protocol reference §0)."""

FLUX_DEV = SpaceDescriptor(
    name="FLUX.1-dev",
    url=DEV_URL,
    # guidance_scale comes before the steps on this Space (§12).
    inputs=(
        "prompt",
        "seed",
        "randomize_seed",
        "width",
        "height",
        "guidance_scale",
        "num_inference_steps",
    ),
    defaults=GenerateParams(
        seed=0,
        randomize_seed=True,
        width=DEFAULT_SIZE,
        height=DEFAULT_SIZE,
        guidance_scale=DEV_GUIDANCE,
        num_inference_steps=DEV_STEPS,
    ),
    aliases=("flux-dev", "black-forest-labs/FLUX.1-dev"),
    previews=True,
)
"""The public FLUX.1-dev Space: takes ``guidance_scale`` and streams previews (§12)."""

SPACES: Mapping[str, SpaceDescriptor] = MappingProxyType(
    {alias: space for space in (FLUX_SCHNELL, FLUX_DEV) for alias in space.aliases}
)
"""The shipped Spaces by alias."""


def resolve_space(space: str | SpaceDescriptor) -> SpaceDescriptor:
    """A descriptor for an alias (``"flux-dev"``) or a descriptor itself.

    Raises:
        InvalidRequestError: The alias is unknown.
    """
    if isinstance(space, SpaceDescriptor):
        return space
    try:
        return SPACES[space]
    except KeyError:
        raise InvalidRequestError("space", space, "one of " + ", ".join(sorted(SPACES))) from None
