"""The security suite reuses the fault suite's real-socket servers (tests/faults/_fixtures.py)."""

from __future__ import annotations

from tests.faults._fixtures import facade as facade
from tests.faults._fixtures import no_ambient_token as no_ambient_token
from tests.faults._fixtures import other_host as other_host
from tests.faults._fixtures import other_port as other_port
from tests.faults._fixtures import space as space
