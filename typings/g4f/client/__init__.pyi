"""``g4f.client``: g4f's OpenAI-style clients (the part tests/g4f drives)."""

from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Literal, overload

from g4f.client.stubs import ChatCompletion, ChatCompletionChunk, ImagesResponse
from g4f.providers.types import ProviderType
from g4f.typing import Messages

class Images:
    def generate(
        self,
        prompt: str,
        model: str | None = None,
        provider: ProviderType | None = None,
        response_format: str | None = None,
        proxy: str | None = None,
        **kwargs: object,
    ) -> ImagesResponse: ...

class AsyncImages:
    async def generate(
        self,
        prompt: str,
        model: str | None = None,
        provider: ProviderType | None = None,
        response_format: str | None = None,
        **kwargs: object,
    ) -> ImagesResponse: ...

class Completions:
    @overload
    def create(
        self,
        messages: Messages,
        model: str = "",
        provider: ProviderType | None = None,
        stream: Literal[False] = False,
        **kwargs: object,
    ) -> ChatCompletion: ...
    @overload
    def create(
        self,
        messages: Messages,
        model: str = "",
        provider: ProviderType | None = None,
        *,
        stream: Literal[True],
        **kwargs: object,
    ) -> Iterator[ChatCompletionChunk]: ...

class AsyncCompletions:
    @overload
    def create(
        self,
        messages: Messages,
        model: str = "",
        provider: ProviderType | None = None,
        stream: Literal[False] = False,
        **kwargs: object,
    ) -> Awaitable[ChatCompletion]: ...
    @overload
    def create(
        self,
        messages: Messages,
        model: str = "",
        provider: ProviderType | None = None,
        *,
        stream: Literal[True],
        **kwargs: object,
    ) -> AsyncIterator[ChatCompletionChunk]: ...

class Chat:
    completions: Completions

class AsyncChat:
    completions: AsyncCompletions

class Client:
    chat: Chat
    images: Images
    # The real constructor also takes media_provider (image_provider is read from **kwargs).
    def __init__(
        self,
        provider: ProviderType | None = None,
        *,
        image_provider: ProviderType | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> None: ...

class AsyncClient:
    chat: AsyncChat
    images: AsyncImages
    def __init__(
        self,
        provider: ProviderType | None = None,
        *,
        image_provider: ProviderType | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> None: ...
