#!/usr/bin/env python3
"""Summarises a dhat heap profile of the server (standard library only).

    python3 loadgen/dhat-summary.py dhat-heap.json [--per N] [--by end|total] [--top K]

Groups the allocation sites by the first frame of Courier's own code or of a
named dependency (after the allocator's frames), and prints for each group
the bytes and blocks live at the profile's end ("end": what an idle socket
keeps, when the profile was written with sockets held open) or allocated in
all ("total": where the allocations of a run go), divided by N (sockets or
messages) when --per is given.
"""

import argparse
import json
import re
from collections import defaultdict

# Frames that only pass an allocation on: skipped to find who asked for it.
PASS_ON = re.compile(
    r"alloc::|core::|std::|<?dhat::|__rust|hashbrown::raw|<hashbrown::raw|"
    r"bytes::bytes_mut::|bytes::bytes::|<bytes::|<alloc::|<core::|<std::|"
    r"\[root\]|smallvec::|<smallvec::"
)


def frame_name(frame: str) -> str:
    """The function of a frame line `0x..: function (file:line:col)`."""
    name = frame.split(": ", 1)[-1]
    return re.sub(r" \(.*\)$", "", name)


def site(frames: list[str]) -> str:
    """The first frame that is not allocator plumbing, with its caller."""
    names = [frame_name(f) for f in frames]
    for i, name in enumerate(names):
        if not PASS_ON.match(name):
            caller = names[i + 1] if i + 1 < len(names) else ""
            return f"{name}\n      <- {caller}"
    return names[-1] if names else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--per", type=float, default=1.0, help="divide by N")
    parser.add_argument("--by", choices=["end", "total"], default="end")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with open(args.profile, encoding="utf-8") as f:
        profile = json.load(f)
    table = profile["ftbl"]
    bytes_key, blocks_key = ("eb", "ebk") if args.by == "end" else ("tb", "tbk")
    groups: dict[str, list[float]] = defaultdict(lambda: [0, 0])
    for pp in profile["pps"]:
        frames = [table[i] for i in pp["fs"]]
        group = groups[site(frames)]
        group[0] += pp[bytes_key]
        group[1] += pp[blocks_key]
    total_bytes = sum(g[0] for g in groups.values())
    total_blocks = sum(g[1] for g in groups.values())
    per = args.per
    print(
        f"{args.by}: {total_bytes / per:,.1f} bytes in {total_blocks / per:,.2f} blocks"
        f" per {'unit' if per == 1 else f'1/{per:,.0f}'} (requested sizes; the"
        " allocator adds its own overhead per block)"
    )
    ranked = sorted(groups.items(), key=lambda kv: kv[1][0], reverse=True)
    for name, (b, k) in ranked[: args.top]:
        size = b / k if k else 0
        print(f"{b / per:10,.1f} B {k / per:8,.3f} blk  ({size:,.0f} B each)  {name}")


if __name__ == "__main__":
    main()
