"""Read what the SDK needs from a Space's ``GET /config`` (pure, §1-§2)."""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import EndpointNotFoundError, ProtocolError
from ._json import as_list, as_object


@dataclass(frozen=True)
class SpaceConfig:
    """The facts about a Space that shape every request.

    Attributes:
        api_prefix: ``"/gradio_api"`` on Gradio 5 and 6, ``""`` on Gradio 4.
        fn_index: The ``infer`` dependency's id, which ``queue/join`` needs.
        version: The Gradio version the Space reports, if any.
    """

    api_prefix: str
    fn_index: int
    version: str | None


def parse_config(body: object, api_name: str = "infer") -> SpaceConfig:
    """Find the API prefix and the endpoint's fn_index in a decoded ``/config`` body."""
    payload = as_object(body)
    if payload is None:
        raise ProtocolError("GET /config did not return a JSON object")
    prefix = payload.get("api_prefix") or ""
    if not isinstance(prefix, str):
        raise ProtocolError(f"GET /config gave a non-string api_prefix: {prefix!r}")
    version = payload.get("version")
    dependencies = as_list(payload.get("dependencies"))
    if dependencies is None:
        raise ProtocolError("GET /config has no dependencies list")
    for position, item in enumerate(dependencies):
        dependency = as_object(item)
        if dependency is not None and dependency.get("api_name") == api_name:
            # Gradio 4+ gives each dependency an "id"; older configs used the list position.
            fn_index = dependency.get("id", position)
            if not isinstance(fn_index, int) or isinstance(fn_index, bool):
                raise ProtocolError(f"GET /config gave a non-integer id: {fn_index!r}")
            return SpaceConfig(
                api_prefix=prefix.rstrip("/"),
                fn_index=fn_index,
                version=version if isinstance(version, str) else None,
            )
    raise EndpointNotFoundError(f"the Space has no endpoint named {api_name!r}")
