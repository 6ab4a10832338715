"""``--ca-bundle`` and ``--http2``: the command line against the replica over TLS, as on the Space.

The replica is the real Gradio app served over TLS (and HTTP/2) by hypercorn with a certificate
from a CA the test makes (``tests/_h2space.py``); ``flux`` runs in a subprocess, as users run it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests._h2space import H2Space
from tests.cli._run import run_flux

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hypercorn") is None or importlib.util.find_spec("gradio") is None,
    reason="the TLS replica needs gradio and hypercorn in the test environment",
)


@pytest.fixture
def replica(h2_replica: H2Space) -> H2Space:
    return h2_replica


def test_generate_trusts_the_ca_bundle_it_is_given(replica: H2Space, tmp_path: Path) -> None:
    out = tmp_path / "fox.webp"
    args = ["generate", "a fox", "--url", replica.url, "--ca-bundle", replica.ca_bundle]
    done = run_flux(*args, "--seed", "1", "-o", str(out), "--json")
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["seed"] == 1
    assert out.read_bytes()[:4] == b"RIFF"
    assert {row.http_version for row in replica.seen()} == {"1.1"}


def test_without_the_ca_bundle_the_certificate_is_refused_and_the_error_says_how(
    replica: H2Space, tmp_path: Path
) -> None:
    done = run_flux("generate", "a fox", "--url", replica.url, "-o", str(tmp_path / "x.webp"))
    assert done.returncode == 15
    error = done.stderr.decode()
    assert "certificate was refused" in error
    assert "--ca-bundle PATH" in error
    assert not (tmp_path / "x.webp").exists()
    # Refused in the handshake: no request reached the app.
    assert replica.seen() == []


def test_a_missing_ca_bundle_is_a_usage_error_before_any_io(replica: H2Space) -> None:
    done = run_flux("generate", "a fox", "--url", replica.url, "--ca-bundle", "/nonexistent.pem")
    assert done.returncode == 2
    assert "no CA bundle (file or directory) at '/nonexistent.pem'" in done.stderr.decode()
    assert replica.seen() == []


def test_generate_with_http2_speaks_http2_to_the_space(replica: H2Space, tmp_path: Path) -> None:
    out = tmp_path / "fox.webp"
    args = ["generate", "a fox", "--url", replica.url, "--ca-bundle", replica.ca_bundle, "--http2"]
    done = run_flux(*args, "-o", str(out), "--json")
    assert done.returncode == 0, done.stderr.decode()
    assert out.exists()
    seen = replica.seen()
    assert [row.path for row in seen if row.path.endswith("/call/infer")]
    assert {row.http_version for row in seen} == {"2"}


def test_batch_takes_the_ca_bundle(replica: H2Space, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a fox\na cat\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["batch", str(prompts), "-o", str(out), "--url", replica.url]
    done = run_flux(*args, "--ca-bundle", replica.ca_bundle, "--json")
    assert done.returncode == 0, done.stderr.decode()
    assert len(list(out.glob("*.webp"))) == 2


def test_info_takes_the_ca_bundle(replica: H2Space) -> None:
    done = run_flux("info", "--url", replica.url, "--ca-bundle", replica.ca_bundle, "--json")
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["fn_index"] == 2
