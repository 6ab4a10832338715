"""Per-call options: the four client settings a call may override, defined once.

`CallOptions` is what ``generate``, ``stream``, ``generate_many`` and ``with_options`` take as
keywords, on both clients; `CallSettings` is a client's resolved values, which a call's options
override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import cast

from typing_extensions import TypedDict

from ._config import ProtocolName, Timeout, TimeoutTypes
from ._models import GenerateParams

__all__ = ["CallOptions", "CallSettings", "GenerateKeywords", "split_keywords"]

_PROTOCOLS = ("auto", "queue", "call")


class CallOptions(TypedDict, total=False):
    """Settings one call may override, as keywords; each is the client's argument of that name.

    ``generate``, ``stream`` and ``generate_many`` take them for one call; ``with_options``
    takes them for every call of the client it returns. Leaving one out, or passing None,
    keeps the client's own. Values are checked as the constructor checks them, before anything
    is sent.

    Example:
        >>> options: CallOptions = {"timeout": 30, "max_retries": 0}
        >>> image = client.generate("a red fox", **options)  # doctest: +SKIP
    """

    protocol: ProtocolName | None
    """``"auto"``, ``"queue"`` or ``"call"``; see `ProtocolName`."""
    timeout: TimeoutTypes | None
    """A `Timeout`, or seconds for the whole job."""
    max_retries: int | None
    """How often to re-send a submission the Space certainly did not accept."""
    wait_on_quota: bool | None
    """Wait out a ZeroGPU quota error's ``retry_after`` and try again."""


class GenerateKeywords(GenerateParams, CallOptions, total=False):
    """The keywords of ``generate`` and ``stream``: a `GenerateParams` and `CallOptions`."""


_OPTION_NAMES = frozenset(CallOptions.__annotations__)


def check_protocol(protocol: ProtocolName) -> ProtocolName:
    """``protocol`` itself, or a ValueError naming the choices."""
    if protocol not in _PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(_PROTOCOLS)}; got {protocol!r}")
    return protocol


def check_retries(max_retries: int) -> int:
    """``max_retries`` itself, or a ValueError when it is not a count."""
    # Checked at run time too: callers without a type checker pass floats and strings.
    if type(max_retries) is not int or max_retries < 0:
        raise ValueError(f"max_retries must be an integer >= 0; got {max_retries!r}")
    return max_retries


def split_keywords(keywords: GenerateKeywords) -> tuple[CallOptions, GenerateParams]:
    """``generate``'s keywords as its call options and its generation parameters."""
    options: dict[str, object] = {}
    params: dict[str, object] = {}
    for name, value in keywords.items():
        (options if name in _OPTION_NAMES else params)[name] = value
    # Unknown names stay in the parameters, which refuse them as InvalidRequestError.
    return cast(CallOptions, options), cast(GenerateParams, params)


@dataclass(frozen=True)
class CallSettings:
    """A client's values for the settings `CallOptions` override, checked."""

    protocol: ProtocolName
    timeout: Timeout
    max_retries: int
    wait_on_quota: bool

    @classmethod
    def of(
        cls,
        protocol: ProtocolName,
        timeout: TimeoutTypes,
        max_retries: int,
        wait_on_quota: bool,
    ) -> CallSettings:
        """The constructor's arguments, checked; a ValueError names what is wrong."""
        return cls(
            check_protocol(protocol),
            Timeout.coerce(timeout),
            check_retries(max_retries),
            wait_on_quota,
        )

    def merge(self, options: CallOptions, caller: str) -> CallSettings:
        """These settings overridden by ``options``, checked before any I/O.

        Raises:
            TypeError: ``options`` names something that is not a call option (from ``caller``).
            ValueError: A value is not allowed (as the constructor would say).
        """
        given: Mapping[str, object] = options
        for name in given:
            if name not in _OPTION_NAMES:
                raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
        protocol, timeout = options.get("protocol"), options.get("timeout")
        max_retries, wait_on_quota = options.get("max_retries"), options.get("wait_on_quota")
        return replace(
            self,
            protocol=self.protocol if protocol is None else check_protocol(protocol),
            timeout=self.timeout if timeout is None else Timeout.coerce(timeout),
            max_retries=self.max_retries if max_retries is None else check_retries(max_retries),
            wait_on_quota=self.wait_on_quota if wait_on_quota is None else wait_on_quota,
        )
