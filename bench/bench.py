"""Speed and memory of salesmirror against a floor measured in the same run.

The floor is DuckDB reading the same JSONL into a table (typed columns, no
validation): the least any JSONL-based pipeline must spend. Each phase runs in
its own process so its peak memory is its own. Figures are printed as seconds,
events/s and ratios to the floor; machines here are noisy, so compare ratios.

    python bench/bench.py --events 1000000            # simulate about 1M events first
    python bench/bench.py --events 1000000 5000000 --parquet   # both sizes, JSONL and Parquet
    python bench/bench.py --file big.jsonl            # or measure an existing log
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMN_NAMES = ("id", "ts", "type", "actor", "actor_role", "manager", "rep", "deal", "attrs", "source")

FLOOR_COLUMNS = (
    "{'id': 'VARCHAR', 'ts': 'VARCHAR', 'type': 'VARCHAR', 'actor': 'VARCHAR', 'actor_role': 'VARCHAR', "
    "'manager': 'VARCHAR', 'rep': 'VARCHAR', 'deal': 'VARCHAR', 'attrs': 'JSON', 'source': 'JSON'}"
)


def phase_floor(path: str) -> dict[str, float]:
    """DuckDB reading the log into a table: read_json for JSONL, read_parquet for Parquet."""
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    if path.endswith(".parquet"):
        con.execute("CREATE TABLE t AS SELECT * FROM read_parquet(?)", [path])
    else:
        con.execute(
            f"CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited', columns={FLOOR_COLUMNS})",
            [path],
        )
    counted = con.execute("SELECT count(*) FROM t").fetchone()
    assert counted is not None
    return {"seconds": time.perf_counter() - start, "rows": counted[0]}


def to_parquet(path: str) -> str:
    """The JSONL log as Parquet (envelope columns; attrs and source as JSON text), beside it."""
    import duckdb

    target = path.removesuffix(".jsonl") + ".parquet"
    columns = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c in ("attrs", "source") else c for c in COLUMN_NAMES)
    duckdb.connect().execute(
        f"COPY (SELECT {columns} FROM read_json(?, format='newline_delimited', columns={FLOOR_COLUMNS})) "
        "TO ? (FORMAT parquet)",
        [path, target],
    )
    return target


def phase_ingest(path: str) -> dict[str, float]:
    from engine.ingest import load_events

    start = time.perf_counter()
    loaded = load_events([path])
    return {"seconds": time.perf_counter() - start, "rows": loaded.num_rows}


def phase_check(path: str) -> dict[str, float]:
    from engine.api import evaluate, prepare_rules
    from engine.ingest import load_events

    start = time.perf_counter()
    _, compiled = prepare_rules()
    loaded = load_events([path])
    after_load = time.perf_counter()
    report = evaluate(loaded, compiled)
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "ingest_seconds": after_load - start,
        "evaluate_seconds": end - after_load,
        "rows": loaded.num_rows,
        "findings": len(report.findings),
        "rules": len(compiled),
    }


PHASES = {"floor": phase_floor, "ingest": phase_ingest, "check": phase_check}


def run_phase(name: str, path: str, memory_limit: str | None = None) -> dict[str, float]:
    """Run one phase in a fresh interpreter and return its figures and peak RSS."""
    limit = ["--memory-limit", memory_limit] if memory_limit else []
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--file", path, *limit],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def make_log(target_events: int, seed: int, directory: str) -> str:
    from simulator import simulate, write_simulation

    done = os.path.join(directory, f"bench-{target_events}-seed{seed}.path")
    if os.path.exists(done):  # --keep: made by an earlier run
        with open(done, encoding="utf-8") as made:
            return made.read().strip()

    # about 1,700 events per manager-day at the default mix is not known in advance: probe small
    probe = simulate(managers=4, days=30, seed=seed)
    per_manager_day = max(1.0, len(probe.events) / (4 * 30))
    days = 90
    managers = max(1, round(target_events / (per_manager_day * days)))
    sim = simulate(managers=managers, days=days, seed=seed)
    path = os.path.join(directory, f"bench-{managers}m-{days}d.jsonl")
    write_simulation(sim, path)
    with open(done, "w", encoding="utf-8") as made:
        made.write(path)
    return path


def measure(path: str, repeat: int, memory_limit: str | None = None) -> dict[str, dict[str, float]]:
    results = {}
    for name in ("floor", "ingest", "check"):
        runs = [run_phase(name, path, None if name == "floor" else memory_limit) for _ in range(max(1, repeat))]
        results[name] = min(runs, key=lambda r: r["seconds"])
    return results


def report(label: str, path: str, results: dict[str, dict[str, float]]) -> list[str]:
    floor = results["floor"]["seconds"]
    rows = results["floor"]["rows"]
    size_mb = os.path.getsize(path) / 1e6
    out = [f"{label}: {path} ({rows:,} events, {size_mb:.0f} MB)"]
    out.append(f"{'phase':<22}{'seconds':>9}{'events/s':>12}{'x floor':>9}{'peak MB':>9}")
    lines = [
        ("floor: duckdb read", floor, results["floor"]["peak_rss_mb"]),
        ("ingest (validate)", results["ingest"]["seconds"], results["ingest"]["peak_rss_mb"]),
        ("check: ingest", results["check"]["ingest_seconds"], None),
        ("check: evaluate", results["check"]["evaluate_seconds"], None),
        ("check: total", results["check"]["seconds"], results["check"]["peak_rss_mb"]),
    ]
    for name, seconds, peak in lines:
        peak_text = f"{peak:>9.0f}" if peak is not None else f"{'':>9}"
        out.append(f"{name:<22}{seconds:>9.2f}{rows / seconds:>12,.0f}{seconds / floor:>9.2f}{peak_text}")
    out.append(f"rules: {results['check']['rules']}, findings: {results['check']['findings']}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--events", type=int, nargs="+", default=[200_000], help="Simulate logs of about these many events."
    )
    parser.add_argument("--file", help="Measure this JSONL log instead of simulating one.")
    parser.add_argument("--parquet", action="store_true", help="Also measure each log as Parquet.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="Runs per phase; the fastest is kept.")
    parser.add_argument(
        "--memory-limit",
        help="salesmirror's DuckDB memory limit (check --memory-limit), e.g. 600MB; the floor has none.",
    )
    parser.add_argument("--keep", metavar="DIR", help="Write the simulated logs here and reuse them next time.")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--make", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        sys.path.insert(0, ROOT)
        print(make_log(args.make, args.seed, args.file))
        return
    if args.phase:
        sys.path.insert(0, ROOT)
        if args.memory_limit:
            from engine import limits

            limits.LIMITS.memory = args.memory_limit
        figures = PHASES[args.phase](args.file)
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        if args.keep:
            os.makedirs(tmp, exist_ok=True)
        # The log is made in a child too: Linux carries a parent's peak RSS into its children,
        # so a parent holding a million simulated events would inflate every phase's figure.
        paths = (
            [args.file]
            if args.file
            else [
                subprocess.run(
                    [sys.executable, __file__, "--make", str(n), "--seed", str(args.seed), "--file", tmp],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                .stdout.strip()
                .splitlines()[-1]
                for n in args.events
            ]
        )
        per_million: list[tuple[str, int, float]] = []
        for path in paths:
            parquet = path.removesuffix(".jsonl") + ".parquet"
            if args.parquet and not (args.keep and os.path.exists(parquet)):
                parquet = to_parquet(path)
            logs = [("JSONL", path)] + ([("Parquet", parquet)] if args.parquet else [])
            for label, log in logs:
                results = measure(log, args.repeat, args.memory_limit)
                print("\n".join(report(label, log, results)) + "\n")
                rows = int(results["floor"]["rows"])
                per_million.append((label, rows, results["check"]["seconds"] / rows * 1e6))
        if len(paths) > 1:  # linear cost: seconds per million events at each size
            print(
                "check seconds per million events: "
                + ", ".join(f"{label} {rows:,}: {value:.2f}" for label, rows, value in per_million)
            )


if __name__ == "__main__":
    main()
