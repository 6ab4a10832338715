"""``g4f.providers.types``: the root provider classes."""

from abc import ABC
from typing import ClassVar

class BaseProvider(ABC):
    """What g4f reads from any provider class (``get_model_and_provider``, the clients)."""

    # Declared with the types flux_sdk's providers give them (on BaseProvider itself ``url`` is
    # None); ClassVar because providers are used as classes, never instantiated.
    url: ClassVar[str]
    working: ClassVar[bool]
    needs_auth: ClassVar[bool]
    supports_stream: ClassVar[bool]
    supports_message_history: ClassVar[bool]
    supports_system_message: ClassVar[bool]
    live: ClassVar[int]
    @classmethod
    def get_dict(cls) -> dict[str, str]: ...
    @classmethod
    def get_parent(cls) -> str: ...

class BaseRetryProvider(BaseProvider):
    """A provider instance that tries a list of provider classes."""

    providers: list[type[BaseProvider]]
    last_provider: type[BaseProvider] | None

ProviderType = type[BaseProvider] | BaseRetryProvider
