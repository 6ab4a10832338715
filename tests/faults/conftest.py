"""The fault-injection suite's fixtures: a scriptable Space on a real loopback socket."""

from __future__ import annotations

from tests.faults._fixtures import facade as facade
from tests.faults._fixtures import no_ambient_token as no_ambient_token
from tests.faults._fixtures import other_host as other_host
from tests.faults._fixtures import other_port as other_port
from tests.faults._fixtures import refused_port as refused_port
from tests.faults._fixtures import space as space
from tests.faults._fixtures import traced as traced
