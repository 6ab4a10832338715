"""``g4f.typing``: the message and result types of provider methods."""

from collections.abc import AsyncIterator, Iterator
from typing import TypedDict

from g4f.providers.response import ResponseType

class ContentPart(TypedDict, total=False):
    type: str
    text: str
    image_url: dict[str, str]

class Message(TypedDict, total=False):
    role: str
    content: str | list[ContentPart] | None

Messages = list[Message]
CreateResult = Iterator[str | ResponseType]
AsyncResult = AsyncIterator[str | ResponseType]
