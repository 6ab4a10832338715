"""A sync client's life in a real process: exit, Ctrl-C (a real SIGINT) and fork.

Each script runs in its own interpreter against a real Gradio replica behind the recording
relay; the assertions are on what the process did (exit status, output) and on what the Space
received (the job's cancel, answered 200).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.lifecycle._proxy import LIMIT, Relay, Seen

ROOT = Path(__file__).resolve().parents[2]
SLOW = "[slow] a red fox"  # 0.25 s a step: 50 steps outlast every test by far

PRELUDE = """
import sys
from flux_sdk import FluxClient, Timeout
URL = sys.argv[1]
SLOW = {slow!r}
"""


def start(script: str, url: str) -> subprocess.Popen[str]:
    code = PRELUDE.format(slow=SLOW) + textwrap.dedent(script)
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    env.pop("HF_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-c", code, url],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the process did not exit (a hang):\n{out}\n{err}")
    return process.returncode, out, err


def streaming(seen: list[Seen]) -> bool:
    """A job's event stream is open: the job is on the Space."""
    return any(s.method == "GET" and ("/queue/data" in s.path or "/call/" in s.path) for s in seen)


def cancelled(seen: list[Seen]) -> bool:
    return any(s.path.endswith("/cancel") and s.status is not None for s in seen)


def assert_the_space_cancelled_it(relay: Relay) -> None:
    relay.wait_for(cancelled, "a cancel")
    assert [seen.status for seen in relay.cancels()] == [200]


def test_a_client_never_closed_lets_the_interpreter_exit(relay: Relay) -> None:
    code, out, err = finish(
        start(
            """
            client = FluxClient(URL, protocol="queue")
            print(client.generate("a fox").seed)
            unused = FluxClient(URL)
            """,
            relay.url,
        )
    )
    assert (code, err) == (0, "")
    assert out.strip().isdigit()


def test_exit_with_a_job_running_cancels_it_on_the_space(relay: Relay) -> None:
    code, out, err = finish(
        start(
            """
            client = FluxClient(URL)
            events = client.stream(SLOW, num_inference_steps=50)
            print(type(next(events)).__name__, flush=True)
            # The script ends here: no close(), no end of the stream.
            """,
            relay.url,
        )
    )
    assert (code, err) == (0, "")
    assert out.strip() in {"Queued", "Started"}
    assert_the_space_cancelled_it(relay)


INTERRUPTED = {
    "caught, then close()": """
        client = FluxClient(URL)
        try:
            client.generate(SLOW, num_inference_steps=50)
        except KeyboardInterrupt:
            client.close()
            print("interrupted")
        """,
    "out of a with block": """
        with FluxClient(URL) as client:
            client.generate(SLOW, num_inference_steps=50)
        """,
    "ending the program": """
        client = FluxClient(URL)
        client.generate(SLOW, num_inference_steps=50)
        """,
    "iterating a stream without with": """
        client = FluxClient(URL)
        for event in client.stream(SLOW, num_inference_steps=50):
            pass
        """,
    "in generate_many": """
        client = FluxClient(URL)
        client.generate_many([SLOW + " one"], concurrency=1)
        """,
    "on the call protocol": """
        client = FluxClient(URL, protocol="call")
        client.generate(SLOW, num_inference_steps=50)
        """,
}


@pytest.mark.parametrize("script", INTERRUPTED.values(), ids=INTERRUPTED.keys())
def test_ctrl_c_cancels_the_job_on_the_space(relay: Relay, script: str) -> None:
    process = start(script, relay.url)
    relay.wait_for(streaming, "the job's stream")
    process.send_signal(signal.SIGINT)
    code, out, err = finish(process)
    if "interrupted" in script:
        assert (code, out.strip()) == (0, "interrupted")
    else:
        # An uncaught KeyboardInterrupt: Python ends by SIGINT, with the traceback.
        assert code == -signal.SIGINT
        assert "KeyboardInterrupt" in err
    assert_the_space_cancelled_it(relay)


def test_a_second_ctrl_c_exits_at_once(relay: Relay) -> None:
    # The relay never forwards the cancel's answer here: the Space holds it, so the first
    # Ctrl-C waits (bounded by Timeout.cancel, an hour here) and the second one must end it.
    process = start(
        """
        client = FluxClient(URL, timeout=Timeout(cancel=3600))
        client.generate(SLOW, num_inference_steps=50)
        """,
        relay.url,
    )
    relay.wait_for(streaming, "the job's stream")
    relay.hold("/cancel")
    process.send_signal(signal.SIGINT)
    relay.wait_for(lambda seen: any(s.path.endswith("/cancel") for s in seen), "the cancel")
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == -signal.SIGINT
    assert "KeyboardInterrupt" in err


def test_a_forked_child_uses_an_inherited_async_client(relay: Relay) -> None:
    code, out, err = finish(
        start(
            """
            import asyncio, os
            from flux_sdk import AsyncFluxClient

            client = AsyncFluxClient(URL)

            async def job(seed):
                return (await client.generate("x", seed=seed, randomize_seed=False)).seed

            before = asyncio.run(job(1))
            pid = os.fork()
            if pid == 0:
                os._exit(0 if asyncio.run(job(2)) == 2 else 1)
            _, status = os.waitpid(pid, 0)
            print(before, os.waitstatus_to_exitcode(status), asyncio.run(job(3)))
            """,
            relay.url,
        )
    )
    assert (code, err) == (0, "")
    assert out.split() == ["1", "0", "3"]


def test_a_forked_child_gets_its_own_loop_and_the_parent_is_unaffected(relay: Relay) -> None:
    code, out, err = finish(
        start(
            """
            import multiprocessing, os

            client = FluxClient(URL)
            before = client.generate("parent", seed=1, randomize_seed=False).seed

            def job(seed):
                return client.generate("child", seed=seed, randomize_seed=False).seed

            with multiprocessing.get_context("fork").Pool(2) as pool:
                children = pool.map(job, [2, 3])

            pid = os.fork()
            if pid == 0:
                os._exit(0 if job(4) == 4 else 1)
            _, status = os.waitpid(pid, 0)

            after = client.generate("parent again", seed=5, randomize_seed=False).seed
            print(before, children, os.waitstatus_to_exitcode(status), after)
            client.close()
            """,
            relay.url,
        )
    )
    assert (code, err) == (0, "")
    assert out.split() == ["1", "[2,", "3]", "0", "5"]
