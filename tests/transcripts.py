"""Read the captured Gradio exchanges in ``tests/data/protocol/transcripts`` as test fixtures.

The transcripts (and the protocol reference beside them, ``tests/data/protocol/README.md``) were
captured from real Gradio 4.44, 5.50 and 6.31 servers; they live in the repository so that a bare
clone runs its own tests.

Each transcript is a ``curl -N -v`` log with ``[+s.sss]`` timestamps; the body lines (neither
``>`` request nor ``<`` response headers nor ``*`` curl notes) are the bytes the server sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PREFIX = re.compile(r"^\[\+\s*[\d.]+s\] ?")
# curl appends its "connection left intact" note to a body that has no final newline.
_CURL_NOTE = re.compile(r"\* (?:Connection|Closing connection) #\d+.*$")


_TRANSCRIPTS = Path(__file__).resolve().parent / "data" / "protocol" / "transcripts"


def transcripts_dir() -> Path:
    """Where the transcripts are: in the repository, beside the tests."""
    return _TRANSCRIPTS


@dataclass(frozen=True)
class Transcript:
    """One captured exchange."""

    status: int
    headers: dict[str, str]
    body: str


def load(relative: str) -> Transcript:
    """Parse ``transcripts/<relative>`` (e.g. ``"gradio6/21-get-queue-data-success.txt"``)."""
    status = 0
    headers: dict[str, str] = {}
    body: list[str] = []
    for raw in (transcripts_dir() / relative).read_text().splitlines():
        if raw.startswith(("$ ", "# ")):
            continue
        line = _PREFIX.sub("", raw, count=1)
        if line.startswith(("* ", "> ", "{ ", "} ")) or line in ("*", ">"):
            continue
        if line.startswith("< "):
            header = line[2:]
            if header.startswith("HTTP/"):
                status = int(header.split()[1])
            elif ":" in header:
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
            continue
        if line == "<":
            continue
        body.append(_CURL_NOTE.sub("", line))
    return Transcript(status=status, headers=headers, body="\n".join(body) + "\n")
