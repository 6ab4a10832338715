"""Every scenario, against the fake and against a real Gradio server of the same line: equal.

This is what makes `flux_sdk.testing.FakeSpace` trustworthy: a test that passes against the
fake observes exactly what it would observe against Gradio 4.44, 5.50 or 6.31, for the
FLUX.1-schnell app and (``space="flux-dev"``) the FLUX.1-dev one.
"""

from __future__ import annotations

import anyio
import pytest

from flux_sdk.testing import FakeSpace

from .conftest import REAL_MAX_SIZE, RealServer
from .scenarios import DEV_SCENARIOS, SCENARIOS, Observed, Scenario, Target

pytestmark = pytest.mark.anyio

# A guard against a hung stream, not a timing assertion: the slowest scenario takes seconds.
_HANG_GUARD = 120


async def _observe(scenario: Scenario, target: Target) -> Observed:
    with anyio.fail_after(_HANG_GUARD):
        return await scenario(target)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_fake_matches_real(name: str, real_server: RealServer) -> None:
    scenario = SCENARIOS[name]
    real = await _observe(scenario, Target(real_server.url, real_server.gradio))
    space = FakeSpace(gradio=real_server.gradio, faults=True, max_size=REAL_MAX_SIZE)
    fake = await _observe(scenario, Target(space.url, space.gradio, space))
    assert fake == real


@pytest.mark.parametrize("name", sorted(DEV_SCENARIOS))
async def test_fake_flux_dev_matches_real(name: str, real_dev_server: RealServer) -> None:
    scenario = DEV_SCENARIOS[name]
    real = await _observe(scenario, Target(real_dev_server.url, real_dev_server.gradio))
    space = FakeSpace(
        gradio=real_dev_server.gradio, faults=True, max_size=REAL_MAX_SIZE, space="flux-dev"
    )
    fake = await _observe(scenario, Target(space.url, space.gradio, space))
    assert fake == real
