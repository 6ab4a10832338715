"""``flux batch``'s manifest: what it records, what it vouches for, and what it ignores."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from flux_sdk import GenerateRequest
from flux_sdk._cli._manifest import MANIFEST_NAME, Entry, Manifest, Recipe

IMAGE = b"RIFF\x10\x00\x00\x00WEBPVP8 fake image bytes"
FILE = "0001-a-fox.webp"


def _recipe(**changes: str | int | float | None) -> Recipe:
    request = GenerateRequest(prompt="a fox", width=512, height=768, num_inference_steps=4)
    recipe = Recipe.of(1, request, space="flux-schnell", url="http://127.0.0.1:7860")
    return dataclasses.replace(recipe, **changes)  # type: ignore[arg-type]


def _saved(directory: Path, data: bytes = IMAGE, file: str = FILE) -> Path:
    path = directory / file
    path.write_bytes(data)
    return path


def _reloaded(directory: Path) -> Manifest:
    manifest = Manifest(directory)
    manifest.load()
    return manifest


def test_the_recipe_of_a_request() -> None:
    random = Recipe.of(
        3, GenerateRequest(prompt="a fox", seed=5), space="flux-schnell", url="local"
    )
    assert random.seed is None  # randomized: any seed will do
    fixed = Recipe.of(
        3,
        GenerateRequest(prompt="a fox", seed=5, randomize_seed=False, guidance_scale=4.5),
        space="flux-dev",
        url="local",
    )
    assert (fixed.index, fixed.prompt, fixed.seed, fixed.guidance) == (3, "a fox", 5, 4.5)
    assert (fixed.width, fixed.height, fixed.steps, fixed.space) == (1024, 1024, 4, "flux-dev")


def test_a_recorded_image_is_complete_after_a_reload(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path)
    manifest.load()  # no manifest yet: nothing recorded, nothing created
    assert not (tmp_path / MANIFEST_NAME).exists()
    assert manifest.complete(_recipe(), FILE) is None
    entry = manifest.record(_recipe(), _saved(tmp_path), used_seed=42)
    assert (entry.file, entry.size, entry.used_seed) == (FILE, len(IMAGE), 42)
    line = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert line["prompt"] == "a fox"
    assert line["seed"] is None
    assert (line["width"], line["height"], line["space"]) == (512, 768, "flux-schnell")
    assert line["time"].endswith("+00:00")
    assert _reloaded(tmp_path).complete(_recipe(), FILE) == entry


def test_another_recipe_is_made_again(tmp_path: Path) -> None:
    Manifest(tmp_path).record(_recipe(), _saved(tmp_path), used_seed=42)
    manifest = _reloaded(tmp_path)
    for changed in [
        _recipe(prompt="a red fox"),
        _recipe(index=2),
        _recipe(seed=7),
        _recipe(width=1024),
        _recipe(height=512),
        _recipe(steps=8),
        _recipe(guidance=3.5),
        _recipe(space="flux-dev"),
        _recipe(url="local"),
    ]:
        assert manifest.complete(changed, FILE) is None, changed


def test_a_missing_or_changed_file_is_made_again(tmp_path: Path) -> None:
    Manifest(tmp_path).record(_recipe(), _saved(tmp_path), used_seed=42)
    _saved(tmp_path, IMAGE[:-1] + b"X")  # same size, other bytes
    assert _reloaded(tmp_path).complete(_recipe(), FILE) is None
    _saved(tmp_path, IMAGE[:10])  # cut short
    assert _reloaded(tmp_path).complete(_recipe(), FILE) is None
    (tmp_path / FILE).unlink()
    assert _reloaded(tmp_path).complete(_recipe(), FILE) is None


def test_an_image_without_its_line_is_not_trusted(tmp_path: Path) -> None:
    _saved(tmp_path)  # the process died between the image and its line
    assert _reloaded(tmp_path).complete(_recipe(), FILE) is None


def test_a_line_cut_short_is_ignored_and_the_next_starts_on_its_own(tmp_path: Path) -> None:
    first = Manifest(tmp_path).record(_recipe(), _saved(tmp_path), used_seed=1)
    manifest_path = tmp_path / MANIFEST_NAME
    cut = first.to_line().replace(FILE, "0002-a-lighthouse.webp")[:-9]
    with manifest_path.open("a", encoding="utf-8") as file:
        file.write(cut)  # killed mid-write: no closing brace, no newline
    lighthouse = _recipe(index=2, prompt="a lighthouse")
    manifest = _reloaded(tmp_path)
    assert manifest.complete(_recipe(), FILE) == first
    assert manifest.complete(lighthouse, "0002-a-lighthouse.webp") is None
    second = manifest.record(lighthouse, _saved(tmp_path, file="0002-a-lighthouse.webp"), 2)
    lines = manifest_path.read_text(encoding="utf-8").splitlines()
    assert lines == [first.to_line(), cut, second.to_line()]
    reloaded = _reloaded(tmp_path)
    assert reloaded.complete(_recipe(), FILE) == first
    assert reloaded.complete(lighthouse, "0002-a-lighthouse.webp") == second


def test_the_last_line_of_a_file_wins(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path)
    manifest.record(_recipe(), _saved(tmp_path), used_seed=1)
    again = manifest.record(_recipe(seed=9), _saved(tmp_path, IMAGE + b"!"), used_seed=9)
    reloaded = _reloaded(tmp_path)
    assert reloaded.complete(_recipe(), FILE) is None
    assert reloaded.complete(_recipe(seed=9), FILE) == again


def test_lines_that_are_not_entries_are_ignored(tmp_path: Path) -> None:
    good = Entry(_recipe(), FILE, len(IMAGE), "0" * 64, 1, "2026-12-02T02:00:00+00:00")
    body = json.loads(good.to_line())
    others = [
        "",
        "not json",
        "[1, 2]",
        json.dumps({**body, "version": 0}),
        json.dumps({key: value for key, value in body.items() if key != "sha256"}),
        json.dumps({**body, "file": "../outside.webp"}),
        json.dumps({**body, "size": "12"}),
    ]
    (tmp_path / MANIFEST_NAME).write_text("\n".join(others) + "\n", encoding="utf-8")
    _saved(tmp_path, file="outside.webp")
    manifest = _reloaded(tmp_path)
    assert manifest.complete(_recipe(), FILE) is None
    assert manifest.complete(_recipe(), "../outside.webp") is None
    assert Entry.from_line(good.to_line()) == good


def test_the_docs_show_a_line_with_every_key(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    section = docs.split("### Resuming a batch")[1].split("\n## ")[0]
    example = json.loads(section.split("```json\n")[1].split("\n```")[0])
    line = Manifest(tmp_path).record(_recipe(), _saved(tmp_path), used_seed=1).to_line()
    assert list(example) == list(json.loads(line))
