"""A local FLUX.1-schnell Space for offline use and integration tests.

The local Space is a real Gradio app with the FLUX.1-schnell Space's exact API: the same
``infer`` endpoint (fn_index 2), inputs, limits, progress events and error shapes, served by
whichever Gradio (4.44, 5.x or 6.x) the chosen interpreter has installed. Instead of running the
model it draws a deterministic placeholder image (a gradient with the prompt and seed written
on it), so the SDK can be exercised end to end on 127.0.0.1 without a GPU or the internet.

With ``faults=True`` a leading tag in the prompt reproduces the Space's failures:
``[error] text`` (``gr.Error``), ``[quota]`` (ZeroGPU quota exceeded), ``[gpu]`` (ZeroGPU queue
timeout), ``[crash]`` (a plain exception, text hidden), ``[slow]`` (0.25 s per step) and
``[info]`` (ZeroGPU ``gr.Info``/``gr.Warning`` toasts, then success).

Each inference step takes ``step_delay`` seconds (``DEFAULT_STEP_DELAY``, 0.15 s, by default),
so that Gradio, which throttles progress updates, streams one ``Progress`` event per step.

Example:
    >>> from flux_sdk.local import LocalSpace
    >>> with LocalSpace(faults=True, scale=8) as space:  # doctest: +SKIP
    ...     print(space.url, space.gradio_version)

"""

from ._server import DEFAULT_STEP_DELAY, LocalSpace

__all__ = ["DEFAULT_STEP_DELAY", "LocalSpace"]
