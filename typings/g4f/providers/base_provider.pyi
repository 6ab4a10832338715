"""``g4f.providers.base_provider``: the classes g4f's asynchronous providers derive from."""

from inspect import Parameter
from typing import ClassVar, Literal, overload

from g4f.providers.types import BaseProvider

class AbstractProvider(BaseProvider):
    @overload
    @classmethod
    def get_parameters(cls, as_json: Literal[False] = False) -> dict[str, Parameter]: ...
    @overload
    @classmethod
    def get_parameters(cls, as_json: Literal[True]) -> dict[str, object]: ...

class AsyncGeneratorProvider(AbstractProvider):
    # Its abstract create_async_generator(model, messages, **kwargs) is left out: a static
    # method there, while providers (g4f's own too) define a class method with their own
    # parameters, which g4f finds by signature (get_parameters). flux_sdk never calls the base.
    ...

class ProviderModelMixin:
    # As flux_sdk's providers set them; on the mixin itself default_model is None.
    default_model: ClassVar[str]
    models: ClassVar[list[str]]
    model_aliases: ClassVar[dict[str, str]]
    image_models: ClassVar[list[str]]
    @classmethod
    def get_models(cls, api_key: str | None = None, **kwargs: object) -> list[str]: ...
    @classmethod
    def get_model(cls, model: str, **kwargs: object) -> str: ...
