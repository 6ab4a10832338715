"""``g4f.providers.response``: what providers yield, and what g4f's clients look for."""

class ResponseType: ...

class HiddenResponse(ResponseType):
    """Left out of the text g4f's clients assemble."""

class Reasoning(ResponseType):
    token: str | None
    label: str | None
    status: str | None
    is_thinking: str | None
    def __init__(
        self,
        token: str | None = None,
        label: str | None = None,
        status: str | None = None,
        is_thinking: str | None = None,
    ) -> None: ...

class MediaResponse(ResponseType):
    """What ``Images.async_generate`` keeps: instances of this (or AudioResponse), unhidden."""

    urls: str | list[str]
    alt: str
    options: dict[str, object]
    def __init__(
        self, urls: str | list[str], alt: str, options: dict[str, object] = ..., **kwargs: object
    ) -> None: ...
    def get(self, key: str, default: object = None) -> object: ...
    def get_list(self) -> list[str]: ...

class ImageResponse(MediaResponse): ...
class ImagePreview(HiddenResponse, ImageResponse): ...
