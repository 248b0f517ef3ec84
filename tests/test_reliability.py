"""What the command line guarantees whatever happens around it: exit codes that do not
depend on the output pipes, no output over an input, and every layer's problems at once."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli import main

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo" / "events.jsonl.gz"


def salesmirror(*args: str, stdout: int | None = None, stderr: int | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        cwd=REPO,
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.PIPE,
    )


def closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone (writes fail with EPIPE)."""
    read, write = os.pipe()
    os.close(read)
    return write


@pytest.fixture
def bad_log(tmp_path: Path) -> Path:
    lines = gzip.decompress(DEMO.read_bytes()).splitlines(keepends=True)[:200]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(lines) + b'{"id": 7}\n')
    return path


@pytest.mark.parametrize(("args", "code"), [(("rules", "list"), 0), (("check", str(DEMO), "--no-config"), 1)])
def test_a_reader_that_stops_early_changes_nothing(args: tuple[str, ...], code: int) -> None:
    proc = salesmirror(*args, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    assert b"Broken pipe" not in err and b"Error" not in err


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_invalid_input_exits_2_whatever_the_pipes(bad_log: Path, closed: str) -> None:
    pipe = closed_pipe()
    try:
        if closed == "stderr":
            proc = salesmirror("check", str(bad_log), "--no-config", stderr=pipe)
        else:
            proc = salesmirror("check", str(bad_log), "--no-config", stdout=pipe)
        proc.communicate(timeout=120)
    finally:
        os.close(pipe)
    assert proc.returncode == 2


def test_findings_exit_1_with_stderr_closed() -> None:
    pipe = closed_pipe()
    try:
        proc = salesmirror("check", str(DEMO), "--no-config", stderr=pipe)
        proc.communicate(timeout=120)
    finally:
        os.close(pipe)
    assert proc.returncode == 1


@pytest.mark.parametrize("option", ["--rejects", "-o"])
def test_an_output_over_an_input_is_refused(bad_log: Path, option: str) -> None:
    before = bad_log.read_bytes()
    same_file = str(bad_log.parent / "." / bad_log.name)  # another spelling of the same file
    result = CliRunner().invoke(main, ["check", str(bad_log), option, same_file, "--no-config"])
    assert result.exit_code == 2
    assert f"{option} {same_file} is also an input; refusing to overwrite it" in result.output
    assert bad_log.read_bytes() == before


def test_the_roster_and_config_are_inputs_too(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("rep,manager,start\nr1,m1,2026-01-01\n", encoding="utf-8")
    with pytest.raises(engine.UsageError, match="is also an input"):
        engine.check([str(DEMO)], roster=str(roster), rejects=str(roster))


def test_every_layer_reports_in_one_run(tmp_path: Path, bad_log: Path) -> None:
    config = tmp_path / "salesmirror.yaml"
    config.write_text("fail_on: sometimes\nparms: {}\n", encoding="utf-8")
    rules = tmp_path / "rules" / "t"
    rules.mkdir(parents=True)
    (rules / "broken.yaml").write_text("id: t/broken\ntrait: x\n", encoding="utf-8")
    missing = tmp_path / "missing.jsonl"
    result = CliRunner().invoke(
        main,
        ["check", str(bad_log), str(missing), "--config", str(config), "--rules", str(tmp_path / "rules")],
    )
    assert result.exit_code == 2
    text = result.output
    assert f"{config}:1:" in text and "fail_on" in text  # the config's bad value
    assert f"{config}:2:1: invalid config: unknown option 'parms'" in text  # and its unknown key
    assert "broken.yaml" in text and "missing required field" in text  # the rule
    assert f"{missing}: cannot read" in text  # the missing input
    assert f"{bad_log}:201: field 'id' must be a non-empty string" in text  # the bad line of the other one
    assert text.rstrip().splitlines()[-1].endswith("problems found")


def test_one_layer_keeps_its_own_error_type(bad_log: Path) -> None:
    with pytest.raises(engine.InvalidInput):
        engine.check([str(bad_log)])
