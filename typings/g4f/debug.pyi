"""``g4f.debug``: module-level switches."""

version_check: bool
"""When true, the first get_model_and_provider() asks PyPI (or GitHub) for a newer g4f, in a thread."""
