"""The shipped Spaces' limits, UI defaults and public URLs, in one place.

`flux_sdk._models` checks requests against these limits, `flux_sdk._spaces` builds the
descriptors of FLUX.1-schnell and FLUX.1-dev from them, and the ``flux`` command's help quotes
them. Standard library only (nothing at all is imported), so that ``flux --help`` stays fast:
importing pydantic or httpx for a help text would cost more than the rest of the command line.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_SIZE",
    "DEV_GUIDANCE",
    "DEV_STEPS",
    "DEV_URL",
    "MAX_GUIDANCE",
    "MAX_SEED",
    "MAX_SIZE",
    "MAX_STEPS",
    "MIN_GUIDANCE",
    "MIN_SIZE",
    "MIN_STEPS",
    "SCHNELL_STEPS",
    "SCHNELL_URL",
    "SIZE_STEP",
]

# The Space's limits (protocol reference §0): MAX_SEED is int32 max, sliders step 32 for sizes.
MAX_SEED = 2_147_483_647
MIN_SIZE, MAX_SIZE, SIZE_STEP = 256, 2048, 32
MIN_STEPS, MAX_STEPS = 1, 50
# FLUX.1-dev's guidance slider (§12 names the input; its public app.py gives 1..15).
MIN_GUIDANCE, MAX_GUIDANCE = 1.0, 15.0

DEFAULT_SIZE = 1024
"""Width and height in both Spaces' UI."""
SCHNELL_STEPS = 4
"""FLUX.1-schnell's inference steps in its UI."""
DEV_STEPS = 28
"""FLUX.1-dev's inference steps in its UI."""
DEV_GUIDANCE = 3.5
"""FLUX.1-dev's guidance scale in its UI."""

SCHNELL_URL = "https://black-forest-labs-flux-1-schnell.hf.space"
"""The public FLUX.1-schnell Space."""
DEV_URL = "https://black-forest-labs-flux-1-dev.hf.space"
"""The public FLUX.1-dev Space."""
