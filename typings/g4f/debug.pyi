"""``g4f.debug``: module-level switches."""

logging: bool
version_check: bool
"""When true, the first get_model_and_provider() asks PyPI for a newer g4f, in a thread."""
