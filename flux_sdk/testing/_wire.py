"""What a Gradio 4.44, 5.x or 6.x server running the FLUX.1-schnell app says, message by message.

Pure functions and data: the per-line differences (protocol reference §8) live here, and
`FakeSpace` only decides *when* to say things. Shapes follow real captures of the local replica
(``tests/data/protocol/transcripts`` and the scenario tests in ``tests/scenarios``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ._scenario import Notice

__all__ = [
    "INFER_FN_INDEX",
    "INPUT_COUNT",
    "GradioLine",
    "Message",
    "call_event",
    "check_inputs",
    "config",
    "info",
    "queue_event",
]

Message = dict[str, object]
"""One decoded message, as the server builds it before encoding."""

INFER_FN_INDEX: Final = 2
"""The ``infer`` dependency's id on the Space (and ``trigger_id`` 5, the Run button)."""

INPUT_COUNT: Final = 6
"""``infer`` takes prompt, seed, randomize_seed, width, height, num_inference_steps."""

MAX_SEED: Final = 2_147_483_647

_VERSION: Final = re.compile(r"\A(\d+)\.(\d+)(?:\.(\d+))?\Z")
_ERROR_DURATION: Final = 10
_LOG_DURATION: Final = 10.0


@dataclass(frozen=True)
class _Slider:
    id: int
    label: str
    name: str
    minimum: int
    maximum: int
    step: int
    value: int
    example: int


_SLIDERS: Final = (
    _Slider(8, "Seed", "seed", 0, MAX_SEED, 1, 0, 0),
    _Slider(11, "Width", "width", 256, 2048, 32, 1024, 256),
    _Slider(12, "Height", "height", 256, 2048, 32, 1024, 256),
    _Slider(15, "Number of inference steps", "num_inference_steps", 1, 50, 1, 4, 1),
)
# Positions of the sliders in the ``data`` list, in the order Gradio preprocesses them.
_SLIDER_POSITIONS: Final = ((1, _SLIDERS[0]), (3, _SLIDERS[1]), (4, _SLIDERS[2]), (5, _SLIDERS[3]))


@dataclass(frozen=True)
class GradioLine:
    """One Gradio release line, and how its wire protocol differs from the others.

    Attributes:
        version: The full version string the server reports, e.g. ``"6.31.0"``.
        major: 4, 5 or 6.
        minor: The minor version.
    """

    version: str
    major: int
    minor: int

    @classmethod
    def parse(cls, version: str) -> GradioLine:
        """Read ``"6.31.0"`` (or ``"5.50"``); only Gradio 4, 5 and 6 are emulated.

        Raises:
            ValueError: The version is malformed or not on Gradio 4, 5 or 6.
        """
        match = _VERSION.match(version)
        if match is None:
            raise ValueError(f"gradio must be a version like '6.31.0', got {version!r}")
        major, minor = int(match.group(1)), int(match.group(2))
        if major not in (4, 5, 6):
            raise ValueError(f"only Gradio 4, 5 and 6 are emulated, got {version!r}")
        return cls(version, major, minor)

    @property
    def api_prefix(self) -> str:
        """``/gradio_api`` from Gradio 5 on; routes are un-prefixed on 4.x."""
        return "" if self.major < 5 else "/gradio_api"

    @property
    def titles(self) -> bool:
        """Whether errors and toasts carry a ``title`` (Gradio 5 and 6)."""
        return self.major >= 5

    @property
    def checks_ranges(self) -> bool:
        """Whether sliders reject out-of-range values (Gradio 5 and 6; 4.44 does not)."""
        return self.major >= 5

    @property
    def call_error_text(self) -> bool:
        """Whether ``/call/`` error events carry the error (6.13+; earlier lines send null)."""
        return (self.major, self.minor) >= (6, 13)

    @property
    def session_not_found(self) -> str:
        """The text of an unknown session or event: Gradio 4 words it differently."""
        return "404: Session not found." if self.major < 5 else "404: Not Found"

    def render_error(self, message: str | None) -> str | None:
        """An error's text as the server sends it: 4.44 sends ``repr(message)`` (quoted)."""
        if message is None or self.major >= 5:
            return message
        return repr(message)


# -- encoding -------------------------------------------------------------------------------------


def queue_event(message: Message) -> bytes:
    """A ``queue/data`` block: ``data:`` and compact JSON (the server uses orjson)."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    return b"data: " + text.encode() + b"\n\n"


def call_event(event: str, data: object) -> bytes:
    """A ``/call/`` block: ``event:`` and ``data:``, JSON with Python's ``", "`` separators."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


# -- queue messages -------------------------------------------------------------------------------


def estimation(event_id: str, rank: int, queue_size: int, rank_eta: float | None) -> Message:
    """The job waits: ``rank`` jobs are ahead of it among the waiting ones."""
    return {
        "msg": "estimation",
        "event_id": event_id,
        "rank": rank,
        "queue_size": queue_size,
        "rank_eta": rank_eta,
    }


def process_starts(event_id: str, eta: float | None) -> Message:
    """The job left the queue and runs."""
    return {"msg": "process_starts", "event_id": event_id, "eta": eta}


def progress(event_id: str, index: int, length: int) -> Message:
    """One ``track_tqdm`` step: ``index`` runs from 0 to ``length - 1``."""
    return {
        "msg": "progress",
        "event_id": event_id,
        "progress_data": [
            {"index": index, "length": length, "unit": "steps", "progress": None, "desc": None}
        ],
    }


def log(line: GradioLine, event_id: str, notice: Notice) -> Message:
    """A toast (``gr.Info``, ``gr.Warning``, ``gr.Success``); no title on Gradio 4."""
    message: Message = {
        "msg": "log",
        "event_id": event_id,
        "log": notice.message,
        "level": notice.level,
        "duration": _LOG_DURATION,
        "visible": True,
    }
    if line.titles:
        message["title"] = notice.title
    return message


def file_data(path: str, url: str) -> Message:
    """The image output, as ``gr.Image`` (format webp) serialises it."""
    return {
        "path": path,
        "url": url,
        "size": None,
        "orig_name": "image.webp",
        "mime_type": None,
        "is_stream": False,
        "meta": {"_type": "gradio.FileData"},
    }


def completed(
    line: GradioLine, event_id: str, data: list[object], duration: float, average: float
) -> Message:
    """A successful ``process_completed``; Gradio 5 adds a title, 6 the cache fields."""
    output: Message = {
        "data": data,
        "is_generating": False,
        "duration": duration,
        "average_duration": average,
        "render_config": None,
        "changed_state_ids": [],
    }
    if line.major >= 6:
        output["used_cache"] = None
    message: Message = {"msg": "process_completed", "event_id": event_id, "output": output}
    message["success"] = True
    _completion_extras(line, message, title=None, duration=duration, average=average)
    return message


def failed(line: GradioLine, event_id: str, error: str | None, title: str | None) -> Message:
    """A failed ``process_completed``: ``error`` None is a hidden exception."""
    output: Message = {"error": line.render_error(error)}
    title = title or "Error"
    if error is not None:
        output["duration"] = _ERROR_DURATION
        output["visible"] = True
        if line.titles:
            output["title"] = title
    message: Message = {"msg": "process_completed", "event_id": event_id, "output": output}
    message["success"] = False
    _completion_extras(line, message, title=title, duration=None, average=None)
    return message


def cancelled(line: GradioLine, event_id: str) -> Message:
    """A cancelled job: it "succeeds" with an empty output (§4.4)."""
    message: Message = {"msg": "process_completed", "event_id": event_id, "output": {}}
    message["success"] = True
    _completion_extras(line, message, title=None, duration=None, average=None)
    return message


def _completion_extras(
    line: GradioLine,
    message: Message,
    *,
    title: str | None,
    duration: float | None,
    average: float | None,
) -> None:
    if line.major >= 5:
        message["title"] = title
    if line.major >= 6:
        message["used_cache"] = None
        message["cache_duration"] = duration
        message["avg_time"] = average


def close_stream() -> Message:
    """The last message of a session's stream once none of its jobs is pending."""
    return {"msg": "close_stream", "event_id": None}


def heartbeat() -> Message:
    """The keep-alive sent every 15 s on an idle stream."""
    return {"msg": "heartbeat", "event_id": None}


def unexpected_error(line: GradioLine) -> Message:
    """What ``queue/data`` says for a session it does not know (before dropping the stream)."""
    message: Message = {
        "msg": "unexpected_error",
        "event_id": None,
        "message": line.session_not_found,
    }
    if line.major >= 5:
        message["session_not_found"] = True
    message["success"] = False
    return message


# -- /call/ payloads ------------------------------------------------------------------------------


def call_error(line: GradioLine, error: str | None, title: str | None) -> object:
    """The ``data`` of a ``/call/`` ``error`` event: null before Gradio 6.13 (§3.4)."""
    if not line.call_error_text:
        return None
    if error is None:
        return {"error": None}
    return {
        "error": line.render_error(error),
        "duration": _ERROR_DURATION,
        "visible": True,
        "title": title or "Error",
    }


# -- input validation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """Gradio refused the inputs before the app ran; ``message`` None hides the reason."""

    message: str | None


def check_inputs(line: GradioLine, data: Sequence[object]) -> Rejection | None:
    """Gradio's own checks of the ``data`` list, in its order; None when they pass.

    Too few values, and (on 5.x and 6.x) values a slider cannot compare, fail with a hidden
    exception; out-of-range slider values fail with Gradio's message on 5.x and 6.x only.
    """
    if len(data) < INPUT_COUNT:
        return Rejection(None)
    if not line.checks_ranges:
        return None
    for position, slider in _SLIDER_POSITIONS:
        value = data[position]
        if not isinstance(value, (int, float)):
            return Rejection(None)  # TypeError: '<' not supported ...
        if value < slider.minimum:
            return Rejection(f"Value {value} is less than minimum value {slider.minimum}.")
        if value > slider.maximum:
            return Rejection(f"Value {value} is greater than maximum value {slider.maximum}.")
    return None


def named_inputs(body: dict[str, object]) -> list[object]:
    """The ``data`` list for ``/call/v2/infer``'s named body (6.13+): missing names default."""
    defaults: list[tuple[str, object]] = [
        ("prompt", None),
        ("seed", 0),
        ("randomize_seed", True),
        ("width", 1024),
        ("height", 1024),
        ("num_inference_steps", 4),
    ]
    return [body.get(name, default) for name, default in defaults]


# -- discovery ------------------------------------------------------------------------------------


def config(line: GradioLine, root: str) -> Message:
    """``GET /config``: the keys clients read, the layout, dependencies and components."""
    body: Message = {"version": line.version}
    if line.api_prefix:
        body["api_prefix"] = line.api_prefix
    body.update(
        {
            "mode": "blocks",
            "dev_mode": False,
            "analytics_enabled": False,
            "components": _components(line),
            "css": None,
            "connect_heartbeat": False,
            "js": None,
            "head": None,
            "title": "Gradio",
            "space_id": None,
            "enable_queue": True,
            "show_error": False,
            "is_colab": False,
            "max_file_size": None,
            "stylesheets": [],
            "theme": "default",
            "protocol": "sse_v3",
            "fill_height": False,
            "fill_width": False,
            "layout": _LAYOUT,
            "dependencies": _dependencies(line),
            "username": None,
            "root": root,
        }
    )
    if line.major < 6:
        body["show_api"] = True
    return body


_LAYOUT: Final[Message] = {
    "id": 0,
    "children": [
        {
            "id": 1,
            "children": [
                {"id": 2},
                {"id": 3, "children": [{"id": 4}, {"id": 5}]},
                {"id": 6},
                {
                    "id": 7,
                    "children": [
                        {"id": 17, "children": [{"id": 8}, {"id": 9}]},
                        {"id": 10, "children": [{"id": 13, "children": [{"id": 11}, {"id": 12}]}]},
                        {"id": 14, "children": [{"id": 16, "children": [{"id": 15}]}]},
                    ],
                },
                {"id": 18},
            ],
        }
    ],
}


def _dependencies(line: GradioLine) -> list[Message]:
    names = (
        ("load_example", "load_example_1")
        if line.major < 5
        else (
            "load_example_input",
            "load_example",
        )
    )
    specs: list[tuple[int, list[list[object]], list[int], list[int], bool, str, bool]] = [
        (0, [[18, "click"]], [18], [4], False, names[0], False),
        (1, [[None, "then"]], [18, 4] if line.major < 5 else [18], [6, 8], True, names[1], False),
        (2, [[5, "click"], [4, "submit"]], [4, 8, 9, 11, 12, 15], [6, 8], True, "infer", True),
    ]
    dependencies: list[Message] = []
    for dep_id, targets, inputs, outputs, queue, api_name, public in specs:
        dependency: Message = {
            "id": dep_id,
            "targets": targets,
            "inputs": inputs,
            "outputs": outputs,
            "backend_fn": True,
            "js": None,
            "queue": queue,
            "api_name": api_name,
            "scroll_to_output": False,
            "show_progress": "full" if queue else "hidden",
            "batch": False,
            "max_batch_size": 4,
            "cancels": [],
            "types": {"generator": dep_id == 1 and line.major < 5, "cancel": False},
            "collects_event_data": False,
            "trigger_after": 0 if dep_id == 1 else None,
            "trigger_only_on_success": False,
            "trigger_mode": "once",
        }
        if line.major >= 6:
            dependency["api_visibility"] = "public" if public else "undocumented"
        else:
            dependency["show_api"] = public
        if line.major >= 5:
            dependency["connection"] = "sse"
            dependency["time_limit"] = None
            dependency["stream_every"] = 0.5
        dependencies.append(dependency)
    return dependencies


def _number_info(slider: _Slider) -> Message:
    return {
        "type": "number",
        "description": f"numeric value between {slider.minimum} and {slider.maximum}",
    }


def _components(line: GradioLine) -> list[Message]:
    def layout(component_id: int, kind: str, **props: object) -> Message:
        return {
            "id": component_id,
            "type": kind,
            "props": {**props, "name": kind},
            "skip_api": True,
        }

    def api(
        component_id: int, kind: str, props: Message, info: Message, example: object
    ) -> Message:
        return {
            "id": component_id,
            "type": kind,
            "props": {**props, "name": kind, "_selectable": False},
            "skip_api": False,
            "api_info": info,
            "example_inputs": example,
        }

    components = [
        layout(
            1,
            "column",
            scale=1,
            min_width=320,
            variant="default",
            visible=True,
            elem_id="col-container",
        ),
        api(
            2,
            "markdown",
            {"value": "# FLUX.1 [schnell]", "visible": True},
            {"type": "string"},
            "# Hello!",
        ),
        layout(3, "row", variant="default", visible=True),
        api(
            4,
            "textbox",
            {
                "lines": 1,
                "max_lines": 1,
                "placeholder": "Enter your prompt",
                "label": "Prompt",
                "show_label": False,
                "container": False,
                "visible": True,
                "type": "text",
            },
            {"type": "string"},
            "Hello!!",
        ),
        layout(
            5, "button", value="Run", variant="secondary", visible=True, interactive=True, scale=0
        ),
        api(
            6,
            "image",
            {
                "format": "webp",
                "image_mode": "RGB",
                "type": "numpy",
                "label": "Result",
                "show_label": False,
                "visible": True,
                "streaming": False,
            },
            _image_schema(line),
            None,
        ),
        layout(7, "accordion", label="Advanced Settings", open=False, visible=True),
        layout(10, "row", variant="default", visible=True),
        layout(13, "form", scale=2, min_width=320),
        layout(14, "row", variant="default", visible=True),
        layout(16, "form", scale=1, min_width=160),
        layout(17, "form", scale=0, min_width=0),
        api(
            9,
            "checkbox",
            {"value": True, "label": "Randomize seed", "show_label": True, "visible": True},
            {"type": "boolean"},
            True,
        ),
        api(
            18,
            "dataset",
            {
                "samples": [
                    ["a tiny astronaut hatching from an egg on the moon"],
                    ["a cat holding a sign that says hello world"],
                    ["an anime illustration of a wiener schnitzel"],
                ],
                "headers": ["Prompt"],
                "type": "tuple",
                "visible": True,
                "component_ids": [4],
            },
            {"type": "integer", "description": "index of selected example"},
            0,
        ),
    ]
    for slider in _SLIDERS:
        components.append(
            api(
                slider.id,
                "slider",
                {
                    "minimum": slider.minimum,
                    "maximum": slider.maximum,
                    "value": slider.value,
                    "step": slider.step,
                    "label": slider.label,
                    "show_label": True,
                    "visible": True,
                },
                _number_info(slider),
                slider.example,
            )
        )
    return sorted(components, key=lambda component: int(str(component["id"])))


def _image_schema(line: GradioLine) -> Message:
    def optional(kind: str, title: str, description: str) -> Message:
        field: Message = {"anyOf": [{"type": kind}, {"type": "null"}], "default": None}
        if line.major >= 5:
            field["description"] = description
        field["title"] = title
        return field

    if line.major < 5:
        path: Message = {"title": "Path", "type": "string"}
    else:
        path = optional("string", "Path", "Path to a local file")
    meta: Message = {"default": {"_type": "gradio.FileData"}, "title": "Meta", "type": "object"}
    is_stream: Message = {"default": False, "title": "Is Stream", "type": "boolean"}
    if line.major >= 5:
        meta = {"additionalProperties": True, **meta}
        is_stream = {
            "default": False,
            "description": "Can always be set to False",
            "title": "Is Stream",
            "type": "boolean",
        }
    schema: Message = {
        "properties": {
            "path": path,
            "url": optional("string", "Url", "Publicly available url or base64 encoded image"),
            "size": optional("integer", "Size", "Size of image in bytes"),
            "orig_name": optional("string", "Orig Name", "Original filename"),
            "mime_type": optional("string", "Mime Type", "mime type of image"),
            "is_stream": is_stream,
            "meta": meta,
        },
    }
    if line.major < 5:
        schema["required"] = ["path"]
        schema["title"] = "FileData"
        schema["type"] = "object"
    else:
        schema["title"] = "ImageData"
        schema["type"] = "object"
        schema["additional_description"] = (
            "A local filepath or publicly available URL."
            if line.major >= 6
            else "For input, either path or url must be provided. "
            "For output, path is always provided."
        )
    return schema


def info(line: GradioLine, root: str) -> Message:
    """``GET {prefix}/info``: the ``/infer`` endpoint's parameters and returns."""
    seed, width, height, steps = _SLIDERS

    def number(slider: _Slider) -> Message:
        # 4.44 repeats the range in python_type; later lines leave it empty for inputs.
        description = _number_info(slider)["description"] if line.major < 5 else ""
        return {
            "label": slider.label,
            "parameter_name": slider.name,
            "parameter_has_default": True,
            "parameter_default": slider.value,
            "type": _number_info(slider),
            "python_type": {"type": "float", "description": description},
            "component": "Slider",
            "example_input": slider.example,
        }

    parameters: list[Message] = [
        {
            "label": "Prompt",
            "parameter_name": "prompt",
            "parameter_has_default": False,
            "parameter_default": None,
            "type": {"type": "string"},
            "python_type": {"type": "str", "description": ""},
            "component": "Textbox",
            "example_input": "Hello!!",
        },
        number(seed),
        {
            "label": "Randomize seed",
            "parameter_name": "randomize_seed",
            "parameter_has_default": True,
            "parameter_default": True,
            "type": {"type": "boolean"},
            "python_type": {"type": "bool", "description": ""},
            "component": "Checkbox",
            "example_input": True,
        },
        number(width),
        number(height),
        number(steps),
    ]
    if line.major == 5:
        image_python_type = (
            "dict(path: str | None (Path to a local file), url: str | None (Publicly available "
            "url or base64 encoded image), size: int | None (Size of image in bytes), orig_name: "
            "str | None (Original filename), mime_type: str | None (mime type of image), "
            "is_stream: bool (Can always be set to False), meta: dict(str, Any))"
        )
    else:
        image_python_type = "filepath"
    returns: list[Message] = [
        {
            "label": "Result",
            "type": _image_schema(line),
            "python_type": {"type": image_python_type, "description": ""},
            "component": "Image",
        },
        {
            "label": "Seed",
            "type": _number_info(seed),
            "python_type": {"type": "float", "description": _number_info(seed)["description"]},
            "component": "Slider",
        },
    ]
    endpoint: Message = {"parameters": parameters, "returns": returns}
    if line.major >= 6:
        endpoint["api_visibility"] = "public"
    else:
        endpoint["show_api"] = True
    if line.major >= 5:
        endpoint["description"] = ""  # the Space's infer has no docstring
    if line.major >= 6:
        endpoint["code_snippets"] = _code_snippets(root)
    return {"named_endpoints": {"/infer": endpoint}, "unnamed_endpoints": {}}


def _code_snippets(root: str) -> Message:
    """The usage examples Gradio 6 generates for ``/infer`` (with the UI defaults)."""
    named = (
        '{"prompt": "Hello!!", "seed": 0, "randomize_seed": true, "width": 1024, '
        '"height": 1024, "num_inference_steps": 4}'
    )
    return {
        "python": (
            f'from gradio_client import Client\n\nclient = Client("{root}")\n'
            'result = client.predict(\n\tprompt="Hello!!",\n\tseed=0,\n'
            "\trandomize_seed=True,\n\twidth=1024,\n\theight=1024,\n"
            '\tnum_inference_steps=4,\n\tapi_name="/infer",\n)\nprint(result)'
        ),
        "javascript": (
            'import { Client } from "@gradio/client";\n\n'
            f'const client = await Client.connect("{root}");\n'
            'const result = await client.predict("/infer", {\n\t\tprompt: "Hello!!",\n'
            "\t\tseed: 0,\n\t\trandomize_seed: true,\n\t\twidth: 1024,\n"
            "\t\theight: 1024,\n\t\tnum_inference_steps: 4,\n});\n\n"
            "console.log(result.data);"
        ),
        "bash": (
            f"curl -X POST {root}/gradio_api/call/v2/infer -s "
            '-H "Content-Type: application/json" \\\n'
            f"  -d '{named}' \\\n"
            "  | awk -F'\"' '{ print $4}' \\\n"
            f"  | read EVENT_ID; curl -N {root}/gradio_api/call/infer/$EVENT_ID"
        ),
        "cli": (
            f"{{command}} predict {root} /infer '{{\n"
            '  "prompt": "Hello!!",\n  "seed": 0,\n  "randomize_seed": true,\n'
            '  "width": 1024,\n  "height": 1024,\n  "num_inference_steps": 4\n}\'\n'
        ),
    }
