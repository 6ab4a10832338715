"""``g4f.debug``: module-level switches."""

version_check: bool
"""When true, get_model_and_provider() first asks PyPI (or GitHub) for a newer g4f."""
