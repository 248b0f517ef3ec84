#!/bin/sh
# Fuzz the event parser and the YAML loaders (rules, libraries, config, --set) with the long hypothesis
# profile: thousands of generated inputs per test instead of the CI's few hundred.
# Extra arguments go to pytest, e.g.  bench/fuzz.sh -k config
# SALESMIRROR_FUZZ=ci bench/fuzz.sh runs the quick profile instead.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
SALESMIRROR_FUZZ="${SALESMIRROR_FUZZ:-long}" exec "$PYTHON" -m pytest -q -p no:cacheprovider \
    --hypothesis-show-statistics tests/test_fuzz_yaml.py tests/test_fuzz_events.py "$@"
