"""``flux info``: the Space's live ``infer`` API, compared with what flux-sdk sends.

The facts come from two requests (§2 of the protocol reference): ``GET /config`` gives the
Gradio version, the API prefix and ``infer``'s fn_index (read by the SDK's own discovery) and
each input's slider ``step``; ``GET {prefix}/info`` gives ``infer``'s parameters with their
limits, as text: ``"numeric value between 256 and 2048"``.

`fetch_space_api` asks through the SDK's own transport (`Transport.api_info`). Everything else
is pure: parsing (`parse_space_api`), the comparison with the SDK's limits (`compare`) and the
report (`render_text`, `to_json`) are unit-tested on the captured transcripts.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from .._config import Timeout
from .._errors import ProtocolError
from .._limits import (  # the SDK's own limits, which compare() checks the Space's against
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_GUIDANCE,
    MIN_SIZE,
    MIN_STEPS,
    SIZE_STEP,
)
from .._protocol import parse_config
from .._protocol._json import as_list, as_object
from .._spaces import FLUX_SCHNELL, SpaceDescriptor, resolve_space
from ._args import LOCAL, InfoOptions
from ._errors import ExitCode
from ._local import require_gradio, start_local_space
from ._output import OutputMode, print_json, print_line, warn

__all__ = [
    "EXPECTED",
    "ExpectedParameter",
    "Mismatch",
    "ParameterInfo",
    "SpaceApi",
    "compare",
    "expected_parameters",
    "fetch_space_api",
    "info_command",
    "parse_space_api",
    "render_text",
    "to_json",
]

_BETWEEN = re.compile(
    r"between\s+(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s+and\s+(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)",
    re.IGNORECASE,
)
_ENDPOINT = "/infer"
_API_NAME = "infer"
_INFO_TIMEOUT = 30.0
_CONNECT_TIMEOUT = 10.0

Number = float
"""A slider limit; integral values are shown without a decimal point."""


@dataclass(frozen=True)
class ExpectedParameter:
    """One value flux-sdk sends to ``infer``, with the limits it enforces before sending.

    Attributes:
        name: The parameter's name, as in ``/info`` and `GenerateRequest`.
        minimum: The smallest value flux-sdk accepts, for sliders.
        maximum: The largest value flux-sdk accepts, for sliders.
        step: The granularity flux-sdk enforces, for sliders.
    """

    name: str
    minimum: Number | None = None
    maximum: Number | None = None
    step: Number | None = None


_SDK_LIMITS: dict[str, tuple[Number, Number, Number | None]] = {
    "seed": (0, MAX_SEED, 1),
    "width": (MIN_SIZE, MAX_SIZE, SIZE_STEP),
    "height": (MIN_SIZE, MAX_SIZE, SIZE_STEP),
    "num_inference_steps": (MIN_STEPS, MAX_STEPS, 1),
    # The SDK checks only the range: the Space's 0.1 step is not compared.
    "guidance_scale": (MIN_GUIDANCE, MAX_GUIDANCE, None),
}
"""`GenerateRequest`'s limits (`flux_sdk._models`): minimum, maximum, step."""


def expected_parameters(space: SpaceDescriptor) -> tuple[ExpectedParameter, ...]:
    """What flux-sdk sends to ``space``'s endpoint: `SpaceDescriptor.inputs`, in order.

    Each slider has `GenerateRequest`'s limits, narrowed by the descriptor's own ``limits``.

    Example:
        >>> [p.name for p in expected_parameters(FLUX_SCHNELL)][:3]
        ['prompt', 'seed', 'randomize_seed']
    """
    expected: list[ExpectedParameter] = []
    for name in space.inputs:
        limits = _SDK_LIMITS.get(name)
        if limits is None:
            expected.append(ExpectedParameter(name))
            continue
        minimum, maximum, step = limits
        extra = space.limits.get(name)
        if extra is not None:
            minimum, maximum = max(minimum, extra.minimum), min(maximum, extra.maximum)
            step = extra.step or step
        expected.append(ExpectedParameter(name, minimum, maximum, step))
    return tuple(expected)


EXPECTED: tuple[ExpectedParameter, ...] = expected_parameters(FLUX_SCHNELL)
"""What flux-sdk sends to FLUX.1-schnell, in order, with the limits of `flux_sdk._models`."""


@dataclass(frozen=True)
class ParameterInfo:
    """One ``infer`` parameter as the Space describes it.

    Attributes:
        name: ``parameter_name`` (or the label when the Space gives no name).
        label: The component's label, e.g. ``"Width"``.
        component: The component type, e.g. ``"Slider"``.
        minimum: The lower limit from ``type.description``, for sliders.
        maximum: The upper limit from ``type.description``, for sliders.
        step: The slider step from ``/config``'s component props.
        default: The value the Space's UI starts with (``parameter_default``).
    """

    name: str
    label: str | None = None
    component: str | None = None
    minimum: Number | None = None
    maximum: Number | None = None
    step: Number | None = None
    default: object = None


@dataclass(frozen=True)
class SpaceApi:
    """What ``flux info`` reports about a Space.

    Attributes:
        url: The Space's base URL.
        version: The Gradio version from ``/config``, if any.
        api_prefix: ``"/gradio_api"`` on Gradio 5 and 6, ``""`` on 4.
        fn_index: ``infer``'s dependency id.
        parameters: ``infer``'s parameters, in order, or None when ``/info`` lists no
            ``/infer`` endpoint.
    """

    url: str
    version: str | None
    api_prefix: str
    fn_index: int
    parameters: tuple[ParameterInfo, ...] | None


@dataclass(frozen=True)
class Mismatch:
    """One way the Space's API differs from what flux-sdk sends.

    Attributes:
        parameter: The parameter concerned, or None for the whole endpoint.
        message: What differs, in one line.
    """

    parameter: str | None
    message: str


def _number(text: str) -> Number:
    return float(text)


def _show(value: Number | None) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _limits(parameter: dict[str, object]) -> tuple[Number | None, Number | None]:
    """The slider's range from ``"numeric value between A and B"`` (type or python_type)."""
    for key in ("type", "python_type"):
        description = (as_object(parameter.get(key)) or {}).get("description")
        if isinstance(description, str):
            match = _BETWEEN.search(description)
            if match is not None:
                return _number(match.group(1)), _number(match.group(2))
    return None, None


def _input_steps(config: dict[str, object], api_name: str) -> list[Number | None] | None:
    """Each ``infer`` input's slider step from ``/config``, in input order (§2)."""
    components: dict[object, dict[str, object]] = {}
    for item in as_list(config.get("components")) or []:
        component = as_object(item)
        if component is not None:
            components[component.get("id")] = component
    for item in as_list(config.get("dependencies")) or []:
        dependency = as_object(item)
        if dependency is None or dependency.get("api_name") != api_name:
            continue
        steps: list[Number | None] = []
        for component_id in as_list(dependency.get("inputs")) or []:
            props = as_object((components.get(component_id) or {}).get("props")) or {}
            step = props.get("step")
            if isinstance(step, (int, float)) and not isinstance(step, bool):
                steps.append(float(step))
            else:
                steps.append(None)
        return steps
    return None


def parse_parameters(
    info: object, steps: Sequence[Number | None] | None = None
) -> tuple[ParameterInfo, ...] | None:
    """``infer``'s parameters from a decoded ``GET {prefix}/info`` body.

    Args:
        info: The decoded ``/info`` body.
        steps: Each input's slider step from ``/config``, in the same order, if known.

    Returns:
        The parameters in order, or None when ``/info`` lists no ``/infer`` endpoint.

    Raises:
        ProtocolError: ``info`` is not the shape Gradio sends.
    """
    body = as_object(info)
    if body is None:
        raise ProtocolError("GET /info did not return a JSON object")
    endpoints = as_object(body.get("named_endpoints"))
    if endpoints is None:
        raise ProtocolError("GET /info has no named_endpoints")
    endpoint = as_object(endpoints.get(_ENDPOINT))
    if endpoint is None:
        return None
    items = as_list(endpoint.get("parameters"))
    if items is None:
        raise ProtocolError(f"GET /info gives {_ENDPOINT} no parameters list")
    parameters: list[ParameterInfo] = []
    for position, item in enumerate(items):
        parameter = as_object(item)
        if parameter is None:
            raise ProtocolError(f"GET /info: {_ENDPOINT} parameter {position} is not an object")
        label = parameter.get("label")
        name = parameter.get("parameter_name") or label or f"#{position}"
        component = parameter.get("component")
        minimum, maximum = _limits(parameter)
        step = steps[position] if steps is not None and position < len(steps) else None
        parameters.append(
            ParameterInfo(
                name=str(name),
                label=label if isinstance(label, str) else None,
                component=component if isinstance(component, str) else None,
                minimum=minimum,
                maximum=maximum,
                step=step if minimum is not None else None,
                default=parameter.get("parameter_default"),
            )
        )
    return tuple(parameters)


def parse_space_api(config: object, info: object, *, url: str = "") -> SpaceApi:
    """Combine a decoded ``/config`` and ``/info`` into a `SpaceApi`.

    Args:
        config: The decoded ``GET /config`` body.
        info: The decoded ``GET {prefix}/info`` body.
        url: The Space's base URL, for the report.

    Raises:
        ProtocolError: A body is not the shape Gradio sends.
        EndpointNotFoundError: ``/config`` has no ``infer`` endpoint.
    """
    discovered = parse_config(config, _API_NAME)
    steps = _input_steps(as_object(config) or {}, _API_NAME)
    return SpaceApi(
        url=url,
        version=discovered.version,
        api_prefix=discovered.api_prefix,
        fn_index=discovered.fn_index,
        parameters=parse_parameters(info, steps),
    )


def _range(minimum: Number | None, maximum: Number | None) -> str:
    return f"{_show(minimum)}..{_show(maximum)}"


def compare(
    parameters: Sequence[ParameterInfo] | None,
    expected: Sequence[ExpectedParameter] = EXPECTED,
) -> list[Mismatch]:
    """Where the Space's ``infer`` parameters differ from what flux-sdk sends.

    Compared: the names and their order, each slider's minimum and maximum, and its step when
    ``/config`` gives one. A limit the Space does not state is not a mismatch.

    Args:
        parameters: The Space's parameters (`SpaceApi.parameters`).
        expected: What flux-sdk sends; defaults to `EXPECTED`.

    Returns:
        The mismatches, empty when flux-sdk and the Space agree.

    Example:
        >>> compare([ParameterInfo("prompt")], [ExpectedParameter("prompt")])
        []
    """
    if parameters is None:
        return [Mismatch(None, f"the Space's /info lists no {_ENDPOINT} endpoint")]
    names = [parameter.name for parameter in parameters]
    wanted = [parameter.name for parameter in expected]
    if names != wanted:
        return [
            Mismatch(
                None,
                f"the Space's infer takes ({', '.join(names)}); "
                f"flux-sdk sends ({', '.join(wanted)})",
            )
        ]
    mismatches: list[Mismatch] = []
    for space, sdk in zip(parameters, expected, strict=True):
        if sdk.minimum is None and sdk.maximum is None:
            continue
        known = space.minimum is not None and space.maximum is not None
        if known and (space.minimum, space.maximum) != (sdk.minimum, sdk.maximum):
            mismatches.append(
                Mismatch(
                    space.name,
                    f"{space.name}: the Space allows {_range(space.minimum, space.maximum)}, "
                    f"flux-sdk allows {_range(sdk.minimum, sdk.maximum)}",
                )
            )
        if space.step is not None and sdk.step is not None and space.step != sdk.step:
            mismatches.append(
                Mismatch(
                    space.name,
                    f"{space.name}: the Space's step is {_show(space.step)}, "
                    f"flux-sdk's is {_show(sdk.step)}",
                )
            )
    return mismatches


def _limits_text(parameter: ParameterInfo) -> str:
    if parameter.minimum is None or parameter.maximum is None:
        return "-"
    text = _range(parameter.minimum, parameter.maximum)
    if parameter.step is not None:
        text += f" step {_show(parameter.step)}"
    return text


def render_text(api: SpaceApi, mismatches: Sequence[Mismatch]) -> str:
    """The human-readable report: the Space, then a table of ``infer``'s parameters.

    Mismatches are not in it: they are warnings, written to stderr by the command.
    """
    lines = [
        f"Space       {api.url}",
        f"Gradio      {api.version or 'unknown'}",
        f"API prefix  {api.api_prefix or '(none)'}",
        f"fn_index    {api.fn_index} (infer)",
        "",
    ]
    if api.parameters is None:
        lines.append("infer parameters: not listed by /info")
    else:
        bad = {mismatch.parameter for mismatch in mismatches}
        rows = [("parameter", "component", "limits", "default", "flux-sdk")]
        for parameter in api.parameters:
            verdict = "MISMATCH" if parameter.name in bad or None in bad else "ok"
            default = "-" if parameter.default is None else repr(parameter.default)
            rows.append(
                (
                    parameter.name,
                    parameter.component or "-",
                    _limits_text(parameter),
                    default,
                    verdict,
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        lines.extend(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
    lines.append("")
    if mismatches:
        lines.append(f"flux-sdk and the Space disagree ({len(mismatches)} difference(s))")
    else:
        lines.append("flux-sdk's requests match the Space's infer API")
    return "\n".join(lines)


def _json_number(value: Number | None) -> int | float | None:
    """Integral limits as JSON integers (``2048``, not ``2048.0``)."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def to_json(api: SpaceApi, mismatches: Sequence[Mismatch]) -> dict[str, object]:
    """The machine-readable report printed by ``flux info --json``."""
    parameters: list[dict[str, object]] | None = None
    if api.parameters is not None:
        parameters = [
            {
                "name": parameter.name,
                "label": parameter.label,
                "component": parameter.component,
                "minimum": _json_number(parameter.minimum),
                "maximum": _json_number(parameter.maximum),
                "step": _json_number(parameter.step),
                "default": parameter.default,
            }
            for parameter in api.parameters
        ]
    return {
        "url": api.url,
        "gradio_version": api.version,
        "api_prefix": api.api_prefix,
        "fn_index": api.fn_index,
        "parameters": parameters,
        "matches_sdk": not mismatches,
        "mismatches": [mismatch.message for mismatch in mismatches],
    }


def fetch_space_api(
    url: str,
    *,
    token: str | None = None,
    space: str = "flux-schnell",
    ca_bundle: str | None = None,
    http2: bool = False,
) -> SpaceApi:
    """Ask the Space at ``url`` for its API: ``GET /config``, then ``GET {prefix}/info``.

    Through the SDK's own client and transport: its headers, its token rule (``token``, else
    ``HF_TOKEN``, sent to ``url``'s origin only), its error mapping and its cap on JSON bodies.
    Nothing is retried: ``flux info`` reports what the Space answers now.

    Args:
        url: The Space's base URL.
        token: A Hugging Face token; defaults to ``HF_TOKEN``.
        space: The kind of Space (its ``infer`` endpoint's name).
        ca_bundle: The CA bundle to trust (``--ca-bundle``); None for the default CAs.
        http2: Offer HTTP/2 over TLS (``--http2``).

    Raises:
        FluxConnectionError: The Space could not be reached.
        FluxTimeoutError: It did not answer in time.
        ResponseError: It answered with an HTTP error (see its subclasses).
        ProtocolError: It answered something that is not Gradio's ``/config`` or ``/info``.
    """
    import anyio

    from .._client import AsyncFluxClient

    async def fetch() -> tuple[object, object]:
        timeout = Timeout(connect=_CONNECT_TIMEOUT, idle=_INFO_TIMEOUT)
        async with AsyncFluxClient(
            url,
            space=space,
            token=token,
            timeout=timeout,
            max_retries=0,
            verify=True if ca_bundle is None else ca_bundle,
            http2=http2,
        ) as client:
            # The client's own transport: the CLI is a client of the SDK, not a second one.
            transport = client._transport  # pyright: ignore[reportPrivateUsage]
            async with transport.call():
                return await transport.api_info()

    config, info = anyio.run(fetch)
    return parse_space_api(config, info, url=url.rstrip("/"))


def info_command(options: InfoOptions, mode: OutputMode) -> int:
    """``flux info``: the report on stdout, each mismatch as a warning on stderr.

    Returns:
        0 when flux-sdk and the Space agree, else `ExitCode.API_MISMATCH`.
    """
    with ExitStack() as stack:
        url = options.url
        if url == LOCAL:
            require_gradio()
            url = start_local_space(stack, space=options.space).url
        api = fetch_space_api(
            url,
            token=options.token,
            space=options.space,
            ca_bundle=options.ca_bundle,
            http2=options.http2,
        )
    mismatches = compare(api.parameters, expected_parameters(resolve_space(options.space)))
    if mode.json_result:
        print_json(to_json(api, mismatches), sys.stdout)
    else:
        print_line(render_text(api, mismatches), sys.stdout)
        for mismatch in mismatches:
            warn(mismatch.message, mode)
    return ExitCode.API_MISMATCH if mismatches else ExitCode.OK
