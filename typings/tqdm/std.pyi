"""``tqdm.std``, where the ``tqdm`` class is defined (re-exported as ``tqdm.tqdm``)."""

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

_T = TypeVar("_T")

class tqdm(Generic[_T]):
    """An iterable that reports its progress; yields what ``iterable`` yields."""

    # The real __init__ takes ~25 optional display settings (desc, total, leave, ...); none is
    # used, and ``iterable`` is optional there only for manual ``update()`` use, which is not.
    def __init__(self, iterable: Iterable[_T]) -> None: ...
    def __iter__(self) -> Iterator[_T]: ...
