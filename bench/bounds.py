"""What exact validation costs before any rule runs, measured in DuckDB alone, against the read floor.

Issue 13 asks for a whole ``check`` within 1.5 times DuckDB's ``read_json``
of the same file. This script measures, in one run and one DuckDB process
each, how far below that any exact pipeline can go on this machine, with no
Python per line at all:

- ``floor``: ``read_json`` into a typed table (bench/bench.py's floor);
- ``lines``: the same file read as raw lines (one VARCHAR column), which an
  exact check needs, since ``read_json`` drops what it cannot type and never
  sees a duplicate key;
- ``parse``: those lines parsed once more as JSON with each envelope field
  taken out by name (``json_valid`` and one extraction per field): still
  short of the contract's checks (types, duplicate keys, the timestamp's
  form, the attributes' vocabulary), so a lower bound of an exact test;
- ``rules``: the default rules on a log already loaded (``engine.api.evaluate``
  alone, no reading and no validation).

    python bench/bounds.py /path/to/log.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _lines_sql(path: str) -> str:
    quoted = path.replace("'", "''")
    # a byte that never appears in JSON text as delimiter, no quoting: each line whole, as text
    return (
        f"read_csv('{quoted}', columns={{'line': 'VARCHAR'}}, delim=chr(1), quote='', escape='', "
        "header=false, auto_detect=false, strict_mode=false)"
    )


def phase(name: str, path: str) -> float:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    if name == "floor":
        from bench import phase_floor

        return phase_floor(path)["seconds"]
    if name == "lines":
        con.execute(f"CREATE TABLE t AS SELECT line FROM {_lines_sql(path)}")
    elif name == "parse":
        from bench import COLUMN_NAMES

        fields = ", ".join(f"json_extract_string(line, '$.{f}') AS {f}" for f in COLUMN_NAMES)
        con.execute(f"CREATE TABLE t AS SELECT json_valid(line) AS ok, {fields} FROM {_lines_sql(path)}")
    elif name == "rules":
        from engine.api import evaluate, prepare_rules
        from engine.ingest import load_events

        _, compiled = prepare_rules()
        loaded = load_events([path])
        start = time.perf_counter()
        evaluate(loaded, compiled)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        print(json.dumps({"seconds": phase(args.phase, args.path)}))
        return
    figures: dict[str, float] = {}
    for name in ("floor", "lines", "parse", "rules"):
        out = subprocess.run(
            [sys.executable, __file__, args.path, "--phase", name], check=True, capture_output=True, text=True
        )
        figures[name] = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    floor = figures["floor"]
    print(f"{args.path} ({os.path.getsize(args.path) / 1e6:,.0f} MB)")
    print(f"{'phase':<44}{'seconds':>9}{'x floor':>9}")
    labels = {
        "floor": "floor: read_json into a typed table",
        "lines": "the same file as raw lines",
        "parse": "raw lines parsed again, fields extracted",
        "rules": "the default rules on a loaded log",
    }
    for name, seconds in figures.items():
        print(f"{labels[name]:<44}{seconds:>9.2f}{seconds / floor:>9.2f}")
    bound = figures["parse"] + figures["rules"]
    print(f"{'lower bound of an exact check (parse + rules)':<44}{bound:>9.2f}{bound / floor:>9.2f}")


if __name__ == "__main__":
    main()
