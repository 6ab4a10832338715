"""What gpt4free's FLUX providers declare, and their rules; no I/O.

`flux_sdk.compat`'s standalone classes and the g4f-backed ones (`flux_sdk._g4f`) take their names,
Space, models and request rules from these, so that the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ._errors import InvalidRequestError
from ._models import GenerateParams, GenerateRequest
from ._spaces import FLUX_DEV, FLUX_SCHNELL, SpaceDescriptor

__all__ = ["Flux1Dev", "Flux1Schnell", "FluxProvider"]


class FluxProvider:
    """What a gpt4free FLUX provider declares (names, Space, models), and its rules."""

    label: ClassVar[str]
    url: ClassVar[str]
    working: ClassVar[bool] = True
    default_model: ClassVar[str]
    default_image_model: ClassVar[str]
    model_aliases: ClassVar[dict[str, str]]
    image_models: ClassVar[list[str]]
    models: ClassVar[list[str]]
    descriptor: ClassVar[SpaceDescriptor]
    """The Space's inputs, defaults and limits."""
    rounds_sizes: ClassVar[bool] = False
    """Round sizes as gpt4free's FLUX.1-schnell provider did (down to a multiple of 8, >= 32)."""

    @classmethod
    def get_model(cls, model: str, **kwargs: object) -> str:
        """Resolve a model name: an alias to its model, an empty name to the default.

        Args:
            model: A model name or alias, or ``""`` for the default.
            **kwargs: Ignored (gpt4free passes provider options here).

        Returns:
            The model's full name.

        Raises:
            InvalidRequestError: ``model`` is not one of `models` (a ValueError).

        """
        if not model:
            return cls.default_model
        if model in cls.model_aliases:
            return cls.model_aliases[model]
        if model in cls.models:
            return model
        raise InvalidRequestError("model", model, "one of " + ", ".join(map(repr, cls.models)))

    @classmethod
    def request(cls, prompt: str, params: GenerateParams) -> GenerateRequest:
        """The validated request: the Space's limits, after the original's rounding if any."""
        if not cls.rounds_sizes:
            return cls.descriptor.request(prompt, params)
        rounded = GenerateParams(**params)
        if "width" in params:
            rounded["width"] = _round_size(params["width"])
        if "height" in params:
            rounded["height"] = _round_size(params["height"])
        sizes: dict[str, object] = {"width": params.get("width"), "height": params.get("height")}
        try:
            return cls.descriptor.request(prompt, rounded)
        except InvalidRequestError as exc:
            given = sizes.get(exc.field)
            if exc.field in sizes and given != rounded.get(exc.field):
                # Name the value the caller gave, and what the rounding made of it.
                raise InvalidRequestError(
                    exc.field,
                    given,
                    f"{exc.constraint} (after rounding down to a multiple of 8, at least 32,"
                    f" it is {rounded.get(exc.field)})",
                ) from None
            raise

    @classmethod
    def client_options(cls, kwargs: Mapping[str, object]) -> tuple[str, str | None]:
        """The Space's URL (``base_url``, else `url`) and the token (``api_key`` or ``token``)."""
        base_url = _str_option(kwargs, "base_url") or cls.url
        token = _str_option(kwargs, "api_key") or _str_option(kwargs, "token")
        return base_url, token


class Flux1Schnell(FluxProvider):
    """gpt4free's ``BlackForestLabs_Flux1Schnell``, as it declared itself."""

    # Each provider's attributes are declared in its own body, as in g4f's providers, so they
    # can be compared with the originals line by line and static readers see their values.

    label: ClassVar[str] = "BlackForestLabs Flux-1-Schnell"
    url: ClassVar[str] = FLUX_SCHNELL.url
    api_endpoint: ClassVar[str] = f"{FLUX_SCHNELL.url}/call/infer"
    default_model: ClassVar[str] = "black-forest-labs-flux-1-schnell"
    default_image_model: ClassVar[str] = default_model
    model_aliases: ClassVar[dict[str, str]] = {"flux-schnell": default_model, "flux": default_model}
    image_models: ClassVar[list[str]] = [default_model, *model_aliases.keys()]
    models: ClassVar[list[str]] = image_models
    descriptor: ClassVar[SpaceDescriptor] = FLUX_SCHNELL
    rounds_sizes: ClassVar[bool] = True


class Flux1Dev(FluxProvider):
    """gpt4free's ``BlackForestLabs_Flux1Dev``, as it declares itself (g4f 8.8.6)."""

    label: ClassVar[str] = "BlackForestLabs Flux-1-Dev"
    url: ClassVar[str] = FLUX_DEV.url
    default_model: ClassVar[str] = "black-forest-labs-flux-1-dev"
    default_image_model: ClassVar[str] = default_model
    model_aliases: ClassVar[dict[str, str]] = {"flux-dev": default_model, "flux": default_model}
    image_models: ClassVar[list[str]] = [default_model, *model_aliases.keys()]
    models: ClassVar[list[str]] = image_models
    descriptor: ClassVar[SpaceDescriptor] = FLUX_DEV


def _round_size(value: int) -> int:
    """Round as the original provider did: down to a multiple of 8, at least 32."""
    try:
        return max(32, value - (value % 8))
    except TypeError:  # not a number: left for GenerateRequest to reject by name
        return value


def _str_option(kwargs: Mapping[str, object], name: str) -> str | None:
    value = kwargs.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(name, value, "a string")
    return value
