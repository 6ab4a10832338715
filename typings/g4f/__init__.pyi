"""The part of gpt4free (g4f 8.8.6) that flux_sdk uses; g4f ships no type information.

``flux_sdk._g4f`` subclasses its provider base classes and yields its response objects;
``tests/g4f`` drives those providers through g4f's own clients. Only those names are declared.
"""

from collections.abc import Iterator
from typing import Literal, overload

from g4f.providers.response import ResponseType
from g4f.providers.types import ProviderType
from g4f.typing import Messages

class ChatCompletion:
    """g4f's legacy entry point: ``g4f.ChatCompletion.create(model, messages, provider)``."""

    # The real signature also takes image, image_name, ignore_working and ignore_stream.
    @overload
    @staticmethod
    def create(
        model: str,
        messages: Messages,
        provider: ProviderType | str | None = None,
        stream: Literal[False] = False,
        **kwargs: object,
    ) -> str: ...
    @overload
    @staticmethod
    def create(
        model: str,
        messages: Messages,
        provider: ProviderType | str | None = None,
        *,
        stream: Literal[True],
        **kwargs: object,
    ) -> Iterator[str | ResponseType]: ...
