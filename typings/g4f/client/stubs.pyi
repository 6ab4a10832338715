"""``g4f.client.stubs``: the OpenAI-shaped results of g4f's clients.

They are pydantic models built with ``model_construct`` (not validated): a field g4f leaves
out (``url`` of a ``b64_json`` image) is missing, and ``content`` may hold a response object.
"""

class Image:
    url: str | None
    b64_json: str | None
    revised_prompt: str | None

class ImagesResponse:
    data: list[Image]
    model: str | None
    provider: str
    created: int

class ChatCompletionMessage:
    role: str
    content: object
    """The text; for an image, the ``ImageResponse`` itself (its ``str()`` is Markdown)."""
    reasoning: str | None

class ChatCompletionChoice:
    index: int
    message: ChatCompletionMessage
    finish_reason: str

class ChatCompletion:
    choices: list[ChatCompletionChoice]
    provider: str | None
    model: str | None

class ChatCompletionDelta:
    role: str
    content: object
    reasoning: str | None

class ChatCompletionDeltaChoice:
    index: int
    delta: ChatCompletionDelta
    finish_reason: str | None

class ChatCompletionChunk:
    choices: list[ChatCompletionDeltaChoice]
