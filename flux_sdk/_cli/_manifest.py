"""``DIR/flux-batch.jsonl``: what each image of a ``flux batch`` output directory is.

One JSON object a line, one line per image the batch saved: the prompt and the parameters
that decide the image (`Recipe`), the file's name, size and SHA-256, the seed the Space used,
and when. A re-run of the same command skips every prompt whose image the manifest vouches for
(`Manifest.complete`): same recipe, and the file is there with the recorded size and hash.

The manifest wins over the directory. A line is appended (and flushed to disk) only after its
image is in place under its name (the SDK's ``save`` renames a complete file into place), so:

* an image without a line (the process died between the two) is not trusted: made again;
* a line whose file is missing, or whose size or hash differs, is ignored: made again;
* a line cut short (the process died while writing it) is not JSON: ignored, and the next
  line starts on a line of its own.

Several lines may name one file (it was made again); the last one is the file's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, TypeVar, cast, overload

from .._models import GenerateRequest

__all__ = ["MANIFEST_NAME", "Entry", "Manifest", "Recipe"]

MANIFEST_NAME = "flux-batch.jsonl"
"""The manifest's name in the output directory."""
_VERSION = 1
"""The lines' format; a line of another version is ignored (its images are made again)."""


@dataclass(frozen=True)
class Recipe:
    """What decides a prompt's image: a recorded image is reused only for the same recipe.

    Attributes:
        index: The prompt's number among the prompts (its image's name starts with it).
        prompt: The prompt.
        seed: The fixed seed (``--seed``), or None for a random one (any seed will do).
        width: Image width.
        height: Image height.
        steps: Inference steps, as sent.
        guidance: Guidance scale as sent, or None (the Space's default, or flux-schnell).
        space: The kind of Space (``--space``).
        url: Where it runs (``--url``, or ``local``).
    """

    index: int
    prompt: str
    seed: int | None
    width: int
    height: int
    steps: int
    guidance: float | None
    space: str
    url: str

    @classmethod
    def of(cls, index: int, request: GenerateRequest, *, space: str, url: str) -> Recipe:
        """The recipe of the ``index``-th prompt's ``request`` on ``space`` at ``url``."""
        return cls(
            index=index,
            prompt=request.prompt,
            seed=None if request.randomize_seed else request.seed,
            width=request.width,
            height=request.height,
            steps=request.num_inference_steps,
            guidance=request.guidance_scale,
            space=space,
            url=url,
        )


@dataclass(frozen=True)
class Entry:
    """One line of the manifest: an image and what it is.

    Attributes:
        recipe: What it was made from.
        file: Its name in the output directory.
        size: Its size in bytes.
        sha256: Its SHA-256, in hex.
        used_seed: The seed the Space used.
        time: When it was saved (ISO 8601, UTC).
    """

    recipe: Recipe
    file: str
    size: int
    sha256: str
    used_seed: int
    time: str

    def to_line(self) -> str:
        """The entry as its line of JSON (without the newline)."""
        body: dict[str, object] = {"version": _VERSION, **asdict(self.recipe)}
        body.update(
            file=self.file,
            size=self.size,
            sha256=self.sha256,
            used_seed=self.used_seed,
            time=self.time,
        )
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> Entry | None:
        """The entry of a line, or None when the line is not one (cut short, edited, older)."""
        try:
            parsed: object = json.loads(line)
        except ValueError:
            return None
        if not isinstance(parsed, dict):
            return None
        body = cast("dict[str, object]", parsed)
        if body.get("version") != _VERSION:
            return None
        try:
            recipe = Recipe(
                index=_field(body, "index", int),
                prompt=_field(body, "prompt", str),
                seed=_field(body, "seed", int, optional=True),
                width=_field(body, "width", int),
                height=_field(body, "height", int),
                steps=_field(body, "steps", int),
                guidance=_field(body, "guidance", float, optional=True),
                space=_field(body, "space", str),
                url=_field(body, "url", str),
            )
            entry = cls(
                recipe=recipe,
                file=_field(body, "file", str),
                size=_field(body, "size", int),
                sha256=_field(body, "sha256", str),
                used_seed=_field(body, "used_seed", int),
                time=_field(body, "time", str),
            )
        except ValueError:
            return None
        # A name with a separator would reach outside the directory: never a batch's own line.
        return entry if Path(entry.file).name == entry.file else None


_T = TypeVar("_T")


@overload
def _field(body: dict[str, object], name: str, kind: type[_T]) -> _T: ...
@overload
def _field(
    body: dict[str, object], name: str, kind: type[_T], *, optional: Literal[True]
) -> _T | None: ...
def _field(
    body: dict[str, object], name: str, kind: type[_T], *, optional: bool = False
) -> _T | None:
    """``body[name]`` if it is a ``kind`` (or None and ``optional``); else ValueError."""
    value: object = body.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool):  # true and false are never a number or a text here
        raise ValueError(f"{name}: not a {kind.__name__}")
    if isinstance(value, kind):
        return value
    raise ValueError(f"{name}: not a {kind.__name__}")


def _digest(path: Path) -> tuple[int, str]:
    """The size and SHA-256 of the file at ``path``."""
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


class Manifest:
    """The manifest of one output directory: `load` it, ask `complete`, `record` new images."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / MANIFEST_NAME
        self._entries: dict[str, Entry] = {}

    def load(self) -> None:
        """Read the manifest, if there is one: the last valid line for each file.

        Raises:
            OSError: It exists but cannot be read.
        """
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            entry = Entry.from_line(line)
            if entry is not None:
                self._entries[entry.file] = entry

    def complete(self, recipe: Recipe, file: str) -> Entry | None:
        """The entry vouching for ``file`` as ``recipe``'s image, or None to make it again.

        It must be the file's last line, for the same recipe, and the file must be there with
        the recorded size and SHA-256.
        """
        entry = self._entries.get(file)
        if entry is None or entry.recipe != recipe:
            return None
        try:
            size, sha256 = _digest(self.directory / file)
        except OSError:
            return None
        return entry if (size, sha256) == (entry.size, entry.sha256) else None

    def record(self, recipe: Recipe, path: Path, used_seed: int) -> Entry:
        """Append the line of the image just saved at ``path``, and flush it to disk.

        Synchronous on purpose: in the batch's event loop nothing can cancel the job between
        its image being in place and this line being written.

        Raises:
            OSError: The image cannot be read back, or the manifest cannot be written.
        """
        size, sha256 = _digest(path)
        time = datetime.now(timezone.utc).isoformat(timespec="seconds")
        entry = Entry(recipe, path.name, size, sha256, used_seed, time)
        with open(self.path, "a+b") as manifest:
            # After a line cut short, the new one starts on a line of its own.
            end = manifest.seek(0, os.SEEK_END)
            if end and manifest.seek(end - 1) >= 0 and manifest.read(1) != b"\n":
                manifest.write(b"\n")
            manifest.write(entry.to_line().encode() + b"\n")
            manifest.flush()
            with contextlib.suppress(OSError):  # some file systems cannot sync; flushed is enough
                os.fsync(manifest.fileno())
        self._entries[entry.file] = entry
        return entry
