"""Usage errors of the `defdip` command: one line on stderr that names the fix, exit status 2, never the
'unexpected error' of a crash; `--version` and `-h`. Every case fails while the arguments are read, so no store
is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from defdip import __version__
from defdip.cli import main


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the entry point in this process as `defdip ARGS`; returns (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["defdip", *args])
    with pytest.raises(SystemExit) as stop:
        main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(stop.value.code or 0), out, err


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder no file can be written in: read-only for a normal user; for root, who writes anywhere, /proc."""
    if os.geteuid() == 0:
        return Path("/proc/defdip-test")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


CASES = [
    (["export", "engagements"], ["missing option -o/--output for 'defdip export'", "give the file to write"]),
    (["panel", "state-year"], ["missing option -o/--output for 'defdip panel state-year'", ".dta"]),
    (["report"], ["missing option -o/--out for 'defdip report'", "give the folder"]),
    (["profile"], ["missing argument COUNTRY for 'defdip profile'", "give a polity name"]),
    (["cite"], ["defdip cite: nothing to cite", "give citation keys, --source DATASET or --layers"]),
    (["evolution", "--by", "century"], ["--by in 'defdip evolution'", "'century' is not one of 'year', 'decade'"]),
    (["codebook", "--format", "xml"], ["-f/--format in 'defdip codebook'", "'xml' is not one of 'table', 'json'"]),
    (["export", "engagements", "-o", "x.csv", "-f", "xls"], ["'xls' is not one of csv, parquet, json",
                                                             "the file's suffix decides"]),
    (["panel", "dyad-year", "-o", "p.dta", "-f", "sav"], ["'sav' is not one of csv, parquet, dta, feather"]),
    (["codebook", "--foo"], ["'defdip codebook' has no option --foo", "see 'defdip codebook -h'"]),
    (["codebook", "--form"], ["has no option --form", "did you mean --format?"]),
    (["statu"], ["no such command 'statu'", "Did you mean 'status'?"]),
    (["network", "--year", "nineteen-ten"], ["-y/--year in 'defdip network'", "'nineteen-ten' is not a year",
                                             "negative for BCE"]),
    (["genealogy", "--from", "0"], ["--from in 'defdip genealogy'", "there is no year 0: 1 BCE is -1"]),
    (["report", "-o", "rep", "--year", "1950s"], ["-y/--year in 'defdip report'", "'1950s' is not a year"]),
    (["network", "--year"], ["defdip network: option '--year' requires an argument", "see 'defdip network -h'"]),
    (["network", "--layer", "dca_any"], ["defdip network: give the year with -y/--year YEAR", "or --list"]),
    (["events", "fetch", "--from", "2015-02-30", "--to", "2015-03-01"], ["--from in 'defdip events fetch'",
                                                                         "give it as YYYY-MM-DD"]),
    (["engagements", "-f", "parquet"], ["--format parquet needs -o FILE"]),
    (["panel", "state-year", "-o", "s.csv", "--system", "ccode"], ["--system in 'defdip panel state-year'",
                                                                   "'ccode' is not one of cow, gw"]),
    (["events", "fetch", "--from", "2015-02-01", "--to", "2015-02-02", "--gdelt", "3"],
     ["--gdelt in 'defdip events fetch'", "less than or equal to 2"]),
    (["export", "panels", "-o", "x.csv"], ["WHAT in 'defdip export'", "cannot export 'panels'", "defdip panel"]),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_usage_error_is_one_line_naming_the_fix(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path, args: list[str], expected: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "unexpected error" not in err and "Traceback" not in err
    for text in expected:
        assert text in lines[0]
    assert out == ""


def test_output_folder_that_cannot_be_written(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    target = unwritable_folder(tmp_path) / "engagements.csv"
    code, _, err = run_main(monkeypatch, capsys, "export", "engagements", "-o", str(target),
                            "--store", str(tmp_path / "no-store.duckdb"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "-o/--output in 'defdip export': cannot write in" in err and "a folder you can write to" in err
    assert not target.exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run_main(monkeypatch, capsys, "report", "-o", str(blocker / "report"))
    assert code == 2 and f"{blocker} is a file, not a folder" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(monkeypatch, capsys, "network", "-y", "1950", "-o", str(tmp_path))
    assert code == 2 and "is a folder: give a file name in it" in err


def test_a_missing_output_folder_is_fine(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    """Writers create missing folders, so only the store is missing here: a data error (exit 1), not usage."""
    code, _, err = run_main(monkeypatch, capsys, "export", "engagements", "-o", str(tmp_path / "new" / "e.csv"),
                            "--store", str(tmp_path / "no-store.duckdb"))
    assert code == 1 and "no store at" in err and "defdip build" in err


def test_version_and_short_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(monkeypatch, capsys, "--version")
    assert code == 0 and out.strip() == f"defdip {__version__}"
    for args in (["-h"], ["panel", "state-year", "-h"], ["events", "fetch", "-h"], ["cite", "--help"]):
        code, out, err = run_main(monkeypatch, capsys, *args)
        assert code == 0 and "Usage: defdip" in out and err == "", args
    code, out, _ = run_main(monkeypatch, capsys)  # bare: the help, as for a group without its command
    assert code == 2 and "Usage: defdip [OPTIONS] COMMAND" in out
    _, out, _ = run_main(monkeypatch, capsys, "-h")
    panels = ["Build and check", "Explore", "Analyse", "Outputs", "Events"]
    assert [out.index(p) for p in panels] == sorted(out.index(p) for p in panels)
    assert out.index("build ") < out.index("engagements ") < out.index("evolution ") < out.index("report ")


def test_debug_shows_the_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["defdip", "--debug", "cite"])
    with pytest.raises(typer.BadParameter, match="nothing to cite"):
        main()


def test_the_installed_command(tmp_path: Path) -> None:
    """The real entry point (`python -m defdip`): the program is named defdip and the line is not wrapped, even
    in a narrow terminal."""
    env = {**os.environ, "COLUMNS": "40"}
    proc = subprocess.run([sys.executable, "-m", "defdip", "panel", "dyad-year", "--from", "1816"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: missing option -o/--output for 'defdip panel dyad-year' "
        "(give the panel file to write (.csv, .parquet, .dta or .feather))"]
