"""Cost of hostile values against the same log without them, measured in one run.

Three logs of 100 events sampled from a simulated team (roster, deals, calls,
messages, one relayed message) are checked with the default rules, each in a
fresh process (``bench/bench.py --phase check``):

    plain   the log as simulated: the floor
    far     the same log with its last event dated 9999-12-31
    long    the same log with the relayed message's two texts 140,000 characters long

Each line gives the evaluate and total seconds, the peak memory and the ratio of
each to the floor. Machines here are noisy, so compare ratios.

    python bench/hostile.py              # best of 3 runs per log
    python bench/hostile.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EVENTS = 100
LONG_TEXT = 140_000
FAR_TS = "9999-12-31T12:00:00Z"


def _sample() -> list[dict[str, object]]:
    """100 events of one simulated team: its roster, one relayed message, the rest evenly spread."""
    from simulator import simulate

    events = simulate(managers=1, days=60, seed=3).events
    roster = [e for e in events if e["type"] == "team_member_added"]
    relays = [e for e in events if e["type"] == "message_relayed"][:1]
    others = [e for e in events if e["type"] not in ("team_member_added", "message_relayed")]
    room = EVENTS - len(roster) - len(relays)
    picked = roster + relays + others[:: max(1, len(others) // room)][:room]
    return sorted(picked, key=lambda e: (str(e["ts"]), str(e["id"])))


def _long_text(rng: random.Random, size: int) -> str:
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(5000)
    ]
    words: list[str] = []
    length = 0
    while length < size:
        words.append(rng.choice(vocabulary))
        length += len(words[-1]) + 1
    return " ".join(words)[:size]


def make_logs(directory: str) -> dict[str, str]:
    """Write the three logs into ``directory``; return their paths by name."""
    plain = _sample()
    far = [dict(e) for e in plain]
    far[-1]["ts"] = FAR_TS
    original = _long_text(random.Random(11), LONG_TEXT)
    relayed = original[: LONG_TEXT // 2] + " Please read this before Friday. " + original[LONG_TEXT // 2 :]
    long = [
        {**e, "attrs": {**e["attrs"], "original_text": original, "text": relayed}}  # type: ignore[dict-item]
        if e["type"] == "message_relayed"
        else e
        for e in plain
    ]
    paths = {}
    for name, events in (("plain", plain), ("far", far), ("long", long)):
        paths[name] = os.path.join(directory, f"{name}.jsonl")
        with open(paths[name], "w", encoding="utf-8") as out:
            out.writelines(json.dumps(e, sort_keys=True) + "\n" for e in events)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="Runs per log; the fastest is kept.")
    parser.add_argument("--make", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        sys.path.insert(0, ROOT)
        print(json.dumps(make_logs(args.make)))
        return
    sys.path.insert(0, HERE)
    from bench import run_phase

    with tempfile.TemporaryDirectory() as tmp:
        # The logs are made in a child, so this process's peak memory stays out of the figures.
        made = subprocess.run(
            [sys.executable, __file__, "--make", tmp], check=True, capture_output=True, text=True, cwd=ROOT
        )
        paths = json.loads(made.stdout.strip().splitlines()[-1])
        results = {}
        for name in ("plain", "far", "long"):
            runs = [run_phase("check", paths[name]) for _ in range(max(1, args.repeat))]
            results[name] = min(runs, key=lambda r: r["evaluate_seconds"])
        floor = results["plain"]
        print(f"logs: {EVENTS} events; far: one dated {FAR_TS}; long: two texts of {LONG_TEXT:,} characters")
        print(f"{'log':<8}{'evaluate s':>11}{'x floor':>9}{'total s':>9}{'x floor':>9}{'peak MB':>9}{'x floor':>9}")
        for name, r in results.items():
            print(
                f"{name:<8}{r['evaluate_seconds']:>11.2f}{r['evaluate_seconds'] / floor['evaluate_seconds']:>9.2f}"
                f"{r['seconds']:>9.2f}{r['seconds'] / floor['seconds']:>9.2f}"
                f"{r['peak_rss_mb']:>9.0f}{r['peak_rss_mb'] / floor['peak_rss_mb']:>9.2f}"
            )
        counts = ", ".join(f"{name} {int(r['findings'])}" for name, r in results.items())
        print(f"findings: {counts}")


if __name__ == "__main__":
    main()
