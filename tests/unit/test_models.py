"""`GenerateRequest` validation, frozen models, and the `Event` union (README §0, §10.2)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from flux_sdk import (
    Completed,
    Event,
    FluxError,
    GenerateRequest,
    Generation,
    InvalidRequestError,
    Log,
    Progress,
    Queued,
    Started,
)

MAX_SEED = 2_147_483_647


def make(**fields: Any) -> GenerateRequest:
    """A request from untyped keywords: lets the tests pass what the types forbid."""
    fields.setdefault("prompt", "a red fox")
    return GenerateRequest(**fields)


def test_defaults_are_the_spaces_ui_values() -> None:
    request = GenerateRequest(prompt="a red fox")
    assert (request.width, request.height) == (1024, 1024)
    assert request.num_inference_steps == 4
    assert request.seed == 0
    assert request.randomize_seed is True
    assert request.prompt == "a red fox"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seed", 0),
        ("seed", MAX_SEED),
        ("width", 256),
        ("width", 2048),
        ("width", 288),
        ("height", 256),
        ("height", 2048),
        ("height", 1536),
        ("num_inference_steps", 1),
        ("num_inference_steps", 50),
        ("randomize_seed", False),
    ],
)
def test_bounds_accepted(field: str, value: object) -> None:
    assert getattr(make(**{field: value}), field) == value


RANGES = {
    "seed": "from 0 to 2147483647",
    "width": "multiple of 32 from 256 to 2048",
    "height": "multiple of 32 from 256 to 2048",
    "num_inference_steps": "from 1 to 50",
    "randomize_seed": "True or False",
    "prompt": "non-empty string",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seed", -1),
        ("seed", MAX_SEED + 1),
        ("width", 255),
        ("width", 224),
        ("width", 2049),
        ("width", 2080),
        ("width", 1000),
        ("width", 0),
        ("height", 100),
        ("height", 4096),
        ("height", 1001),
        ("num_inference_steps", 0),
        ("num_inference_steps", 51),
        ("num_inference_steps", -4),
    ],
)
def test_out_of_range(field: str, value: int) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make(**{field: value})
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, FluxError)
    assert error.field == field
    assert error.value == value
    assert RANGES[field] in error.constraint
    assert RANGES[field] in str(error)
    assert field in str(error)
    assert repr(value) in str(error)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seed", True),
        ("seed", 1.0),
        ("seed", 1.5),
        ("seed", "1"),
        ("seed", None),
        ("width", False),
        ("width", 1024.0),
        ("width", "1024"),
        ("height", 768.0),
        ("num_inference_steps", True),
        ("num_inference_steps", 4.0),
        ("num_inference_steps", "4"),
        ("randomize_seed", 1),
        ("randomize_seed", "yes"),
        ("randomize_seed", None),
        ("prompt", 123),
        ("prompt", None),
        ("prompt", b"bytes"),
        ("prompt", ""),
    ],
)
def test_wrong_types_and_empty_prompt(field: str, value: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make(**{field: value})
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, FluxError)
    assert error.field == field
    assert error.value == value
    assert type(error.value) is type(value)
    assert RANGES[field] in str(error)


@pytest.mark.parametrize("prompt", ["   ", "\t", " \n ", "\u3000"])
def test_a_whitespace_only_prompt_is_refused_like_an_empty_one(prompt: str) -> None:
    with pytest.raises(InvalidRequestError) as blank:
        make(prompt=prompt)
    with pytest.raises(InvalidRequestError) as empty:
        make(prompt="")
    assert (blank.value.field, blank.value.value) == ("prompt", prompt)
    assert blank.value.constraint == empty.value.constraint
    assert str(blank.value) == str(empty.value).replace("''", repr(prompt))


def test_a_prompt_with_text_keeps_its_whitespace() -> None:
    assert make(prompt="  a fox  ").prompt == "  a fox  "


def test_error_message_names_field_value_and_range() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make(width=5000)
    assert str(caught.value) == (
        "width=5000 is invalid: must be an integer multiple of 32 from 256 to 2048"
    )


def test_request_is_frozen() -> None:
    request = GenerateRequest(prompt="x")
    name = "width"
    with pytest.raises(ValidationError):
        setattr(request, name, 512)
    assert request.width == 1024


def test_model_validate_wraps_range_errors() -> None:
    with pytest.raises(ValidationError, match="width=5000 is invalid"):
        GenerateRequest.model_validate({"prompt": "x", "width": 5000})


def test_model_validate_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="negative_prompt"):
        GenerateRequest.model_validate({"prompt": "x", "negative_prompt": "blurry"})


def test_model_validate_rejects_a_missing_prompt() -> None:
    with pytest.raises(ValidationError, match="prompt"):
        GenerateRequest.model_validate({"width": 512})


def test_unknown_keyword_is_invalid_request() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make(negative_prompt="blurry")
    assert caught.value.field == "negative_prompt"
    assert caught.value.value == "blurry"
    assert "num_inference_steps" in caught.value.constraint


def test_event_json_with_incomplete_request_is_validation_error() -> None:
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    data = (
        '{"type":"completed","generation":{"url":"u","path":"p","seed":1,"request":{"width":512}}}'
    )
    with pytest.raises(ValidationError):
        adapter.validate_json(data)


def test_request_is_hashable_and_compares_by_value() -> None:
    assert GenerateRequest(prompt="x", seed=1) == GenerateRequest(prompt="x", seed=1)
    assert GenerateRequest(prompt="x", seed=1) != GenerateRequest(prompt="x", seed=2)
    assert hash(GenerateRequest(prompt="x")) == hash(GenerateRequest(prompt="x"))


def _generation() -> Generation:
    return Generation(
        url="http://127.0.0.1:7860/gradio_api/file=/tmp/gradio/abc/image.webp",
        path="/tmp/gradio/abc/image.webp",
        seed=1234,
        request=GenerateRequest(prompt="a red fox", width=512, height=768),
    )


EVENTS: list[Event] = [
    Queued(rank=2, queue_size=3, eta=None),
    Queued(),
    Started(eta=1.21),
    Progress(step=3, total=6),
    Log(level="info", message="Waiting for a GPU to become available", title="ZeroGPU queue"),
    Log(level="warning", message="toast"),
    Completed(generation=_generation()),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_event_round_trips(event: Event) -> None:
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    assert adapter.validate_python(adapter.dump_python(event)) == event
    assert adapter.validate_json(adapter.dump_json(event)) == event
    assert type(adapter.validate_json(adapter.dump_json(event))) is type(event)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_events_are_frozen(event: Event) -> None:
    name = "type"
    with pytest.raises(ValidationError):
        setattr(event, name, "other")


def test_generation_is_frozen() -> None:
    generation = _generation()
    name = "seed"
    with pytest.raises(ValidationError):
        setattr(generation, name, 1)


def test_discriminator_picks_the_model() -> None:
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    event = adapter.validate_python({"type": "progress", "step": 2, "total": 4})
    assert event == Progress(step=2, total=4, unit="steps")
    assert adapter.validate_python({"type": "queued"}) == Queued()


@pytest.mark.parametrize(
    "data",
    [{"type": "finished"}, {"step": 1}, {"type": "progress"}, {"type": "log", "level": "info"}],
)
def test_discriminator_rejects_unknown_or_incomplete(data: dict[str, object]) -> None:
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    with pytest.raises(ValidationError):
        adapter.validate_python(data)


def test_completed_round_trip_keeps_the_request() -> None:
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    dumped = adapter.dump_python(Completed(generation=_generation()), mode="json")
    assert (
        dumped["generation"]["request"]
        | {
            "prompt": "a red fox",
            "seed": 0,
            "randomize_seed": True,
            "width": 512,
            "height": 768,
            "num_inference_steps": 4,
        }
        == dumped["generation"]["request"]
    )
    restored = adapter.validate_python(dumped)
    assert isinstance(restored, Completed)
    assert restored.generation.request == GenerateRequest(prompt="a red fox", width=512, height=768)
