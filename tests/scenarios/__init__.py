"""Shared scenarios: the same client-level and wire-level checks against `FakeSpace` and a real
Gradio server (the local replica), whose results must be equal for each Gradio line."""
