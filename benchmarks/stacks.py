"""Summarise a py-spy ``--format raw`` profile: ``python -m benchmarks.stacks stacks.txt``.

Prints where the samples of the measured jobs went: by package (the innermost frame's), by
function (self), and by flux_sdk function (inclusive). Samples of start-up (imports, launching
the local Space) are left out.
"""

from __future__ import annotations

import argparse
import collections
import re

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")
_STARTUP = ("_find_and_load", "LocalSpace.start", "LocalSpace.__enter__", "warmup")


def _package(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    top = parts[0]
    if top.endswith(".py"):
        return "stdlib:" + top.removesuffix(".py")
    if top in {"asyncio", "concurrent", "json", "email", "http", "urllib", "importlib"}:
        return "stdlib:" + top
    return top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stacks")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    by_package: collections.Counter[str] = collections.Counter()
    by_self: collections.Counter[str] = collections.Counter()
    flux_inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    with open(args.stacks) as stacks:
        for line in stacks:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            frames = [f for f in stack.split(";") if f]
            if not frames or any(marker in stack for marker in _STARTUP):
                continue
            count = int(count_text)
            total += count
            parsed = [m for m in (_FRAME.match(f) for f in frames) if m]
            if not parsed:
                continue
            inner = parsed[-1]
            by_package[_package(inner["file"])] += count
            by_self[f"{inner['func']} ({inner['file']})"] += count
            seen: set[str] = set()
            for match in parsed:
                if match["file"].startswith("flux_sdk/"):
                    name = f"{match['func']} ({match['file']})"
                    if name not in seen:
                        seen.add(name)
                        flux_inclusive[name] += count
    print(f"{total} samples")
    for title, counter in (
        ("by package (innermost frame)", by_package),
        ("by function (self)", by_self),
        ("flux_sdk functions (inclusive)", flux_inclusive),
    ):
        print(f"\n{title}:")
        for name, count in counter.most_common(args.top):
            print(f"  {count / total * 100:5.1f}%  {name}")


if __name__ == "__main__":
    main()
