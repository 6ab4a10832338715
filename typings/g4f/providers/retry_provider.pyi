"""``g4f.providers.retry_provider``: providers that try a list of providers in turn."""

from g4f.providers.types import BaseProvider, BaseRetryProvider

class IterListProvider(BaseRetryProvider):
    def __init__(self, providers: list[type[BaseProvider]] = ..., shuffle: bool = True) -> None: ...

class RetryProvider(IterListProvider):
    def __init__(
        self,
        providers: list[type[BaseProvider]],
        shuffle: bool = True,
        single_provider_retry: bool = False,
        max_retries: int = 3,
    ) -> None: ...
