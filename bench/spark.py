"""Spark against DuckDB on the same simulated log, the whole default ruleset: seconds and their ratio.

Both engines get the same loaded events and compiled rules; the log is loaded
once (ingest is the same for both and not measured here). Spark's start-up
(the JVM, the first session) is timed apart from the evaluation, since a
long-running process or a cluster pays it once. The reports are compared as
text, so a figure is only printed for results that agree. Machines here are
shared and noisy: compare the ratios, not the seconds.

    python bench/spark.py --managers 12 --days 90          # a simulated org
    python bench/spark.py --managers 40 --days 180 --master 'local[2]'
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=12)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--master", default=None, help="Spark master (default: SPARK_MASTER or local[*])")
    parser.add_argument("--partitions", default=None, help="spark.sql.shuffle.partitions")
    args = parser.parse_args()
    if args.master:
        os.environ["SPARK_MASTER"] = args.master

    from engine.api import evaluate, prepare_rules
    from engine.backends.spark import SparkBackend
    from engine.config import Settings
    from engine.ingest import load_records
    from engine.report.formats.json import render_json
    from simulator import simulate

    sim = simulate(managers=args.managers, days=args.days, seed=args.seed, realism=True)
    loaded = load_records(sim.events, name="<simulated>")
    _, compiled = prepare_rules(None, settings=Settings())
    events = loaded.table.num_rows
    conf = {"spark.sql.shuffle.partitions": args.partitions} if args.partitions else {}

    started = time.perf_counter()
    SparkBackend(load_records([]).table, conf=conf).close()
    spark_start = time.perf_counter() - started

    started = time.perf_counter()
    duck = render_json(evaluate(loaded, compiled, backend="duckdb"))
    duck_s = time.perf_counter() - started
    started = time.perf_counter()
    spark = render_json(evaluate(loaded, compiled, backend="spark"))
    spark_s = time.perf_counter() - started

    print(f"log: {args.managers} teams, {args.days} days, {events:,} events; {len(compiled)} rules")
    print(f"spark start-up (JVM and first session): {spark_start:.1f} s")
    print(f"duckdb: {duck_s:.1f} s ({events / duck_s:,.0f} events/s)")
    print(f"spark:  {spark_s:.1f} s ({events / spark_s:,.0f} events/s)")
    print(f"spark / duckdb: {spark_s / duck_s:.1f}x")
    print(f"reports identical: {duck == spark}")
    return 0 if duck == spark else 1


if __name__ == "__main__":
    sys.exit(main())
