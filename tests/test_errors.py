"""Errors for people: a mistake the user can fix ends the CLI with code 2 and one line.

The line says what is wrong (and, for a stage notebook, then where the failed notebook
is); a traceback is for bugs only. Everything runs in-process through ``cli.main``.
"""

import importlib
import re
from pathlib import Path

import pytest

from workbench import cli
from workbench.errors import WorkbenchError

#: The data snapshot date (数据基准日); the option was called --snapshot before --as-of.
AS_OF = ["--as-of", "2026-06-30"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
#: What the register file holds → what the one line must say about it.
BROKEN_REGISTERS = {
    "empty": (b"", "empty file (0 bytes)"),
    "binary": (PNG, "not a text CSV"),
}


def run(argv: list[str]) -> int:
    """The exit code of ``workbench argv``, whether main returns it or raises SystemExit."""
    try:
        return cli.main(argv)
    except SystemExit as stop:
        return stop.code


def error_line(capsys, argv: list[str]) -> str:
    """Run the CLI expecting a user error; return its single stderr line."""
    code = run(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def exports_with_register(tmp_path: Path, content: bytes) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "enterprises.csv").write_bytes(content)
    return folder


def test_promote_of_an_unknown_run(capsys):
    line = error_line(capsys, ["promote", "deadbeef"])
    assert "deadbeef" in line


@pytest.mark.parametrize("case", sorted(BROKEN_REGISTERS))
def test_ingest_of_a_broken_register_without_notebook(capsys, tmp_path, case):
    content, what = BROKEN_REGISTERS[case]
    folder = exports_with_register(tmp_path, content)
    line = error_line(capsys, ["ingest", "--data", str(folder), *AS_OF, "--no-notebook"])
    assert str(folder / "enterprises.csv") in line
    assert what in line


@pytest.mark.parametrize("case", sorted(BROKEN_REGISTERS))
def test_ingest_of_a_broken_register_through_the_notebook(capsys, tmp_path, case):
    """The loader's message comes first, then the path of the kept failed notebook."""
    content, what = BROKEN_REGISTERS[case]
    folder = exports_with_register(tmp_path, content)
    line = error_line(capsys, ["ingest", "--data", str(folder), *AS_OF])
    assert "enterprises.csv" in line and what in line
    notebook = re.search(r"/\S+?\.ipynb", line)
    assert notebook is not None, line
    assert line.index(what) < notebook.start()
    assert Path(notebook[0]).is_file()


#: Every error a user can cause, by module: the CLI's one-line handling rests on the base.
USER_ERRORS = [
    ("workbench.indicators.catalog", "CatalogError"),
    ("workbench.scoring.grades", "SchemeError"),
    ("workbench.contract.uscc", "USCCError"),
    ("workbench.intake.load", "ContractError"),
    ("workbench.grading.overrides", "OverrideError"),
    ("workbench.sampling.inspectors", "InfeasiblePlan"),
    ("workbench.sampling.plan", "PlanError"),
    ("workbench.sampling.budget", "BudgetError"),
    ("workbench.stages.sample", "SamplingError"),
    ("workbench.workspace.integrity", "SigningKeyError"),
    ("workbench.reporting.browser", "BrowserError"),
    ("workbench.reporting.browser", "BrowserNotFound"),
    ("workbench.reporting.leadership", "ReportLeakError"),
]


@pytest.mark.parametrize(("module", "name"), USER_ERRORS, ids=[n for _, n in USER_ERRORS])
def test_user_errors_share_the_base(module, name):
    error = getattr(importlib.import_module(module), name)
    assert issubclass(error, WorkbenchError)
    # the second base stays, so existing ``except ValueError`` callers still catch it
    assert issubclass(error, (ValueError, RuntimeError))


def test_an_out_folder_of_ones_own_files_is_refused_and_kept(capsys, clean_city, tmp_path):
    """``--out`` replaces an earlier run's output only: a user's folder is never wiped."""
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "a.txt").write_text("keep", encoding="utf-8")
    (mine / "sub" / "b.txt").write_text("keep", encoding="utf-8")
    argv = ["ingest", "--data", str(clean_city), *AS_OF, "--no-notebook"]
    line = error_line(capsys, [*argv, "--out", str(mine)])
    assert str(mine) in line and "a.txt" in line and "new folder" in line
    assert sorted(p.relative_to(mine).as_posix() for p in mine.rglob("*")) == [
        "a.txt",
        "sub",
        "sub/b.txt",
    ]
    out = tmp_path / "ingest"
    assert run([*argv, "--out", str(out)]) == 0
    assert run([*argv, "--out", str(out)]) == 0  # an earlier run's output is replaced
    assert (out / "quality.json").is_file()


LOOSE_DAYS = ["July 2025", "2025", "31/07/2025", "2025-7-31", "2025-07-31T00:00", "2025-02-30"]


@pytest.mark.parametrize("day", LOOSE_DAYS)
def test_a_date_on_the_command_line_is_strict_yyyy_mm_dd(day):
    from workbench.errors import ParameterError
    from workbench.workspace.folders import check_day

    with pytest.raises(ParameterError, match="--as-of must be a date YYYY-MM-DD"):
        check_day(day, "--as-of")
    assert check_day("2024-02-29", "--as-of") == "2024-02-29"


@pytest.mark.parametrize("command", ["ingest", "check", "synth"])
@pytest.mark.parametrize("day", ["July 2025", "31/07/2025"])
def test_a_loose_as_of_is_refused_by_every_command(capsys, tmp_path, command, day):
    where = {
        "ingest": ["--data", str(tmp_path), "--no-notebook"],
        "check": ["--data", str(tmp_path)],
        "synth": ["--out", str(tmp_path / "city")],
    }[command]
    line = error_line(capsys, [command, *where, "--as-of", day])
    assert f"--as-of must be a date YYYY-MM-DD (e.g. 2026-09-30), got {day!r}" in line
    assert not (tmp_path / "city").exists()


@pytest.mark.parametrize("month", ["2026-10-31", "2026-1", "Oct 2026"])
def test_a_loose_month_is_refused(capsys, month):
    from workbench.errors import ParameterError
    from workbench.stages.indicators import _panel_range

    line = error_line(capsys, ["grade", "--month", month, "--no-notebook"])
    assert f"--month must be YYYY-MM (e.g. 2026-09), got {month!r}" in line
    with pytest.raises(ParameterError, match="must be YYYY-MM"):
        _panel_range(f"{month}:2026-10")


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--entities", "-5", "allowed 100 … 10,000,000"),
        ("--errors", "2", "below 0.5"),
        ("--errors", "-0.1", "at least 0"),
        ("--as-of", "2025-02-30", "YYYY-MM-DD"),
        ("--months", "0", "at least one month"),
    ],
)
def test_synth_names_the_option_and_what_is_allowed(capsys, tmp_path, option, value, allowed):
    line = error_line(capsys, ["synth", option, value, "--out", str(tmp_path / "city")])
    assert line.startswith(f"workbench synth: error: {option}") and allowed in line


def test_a_stage_refuses_its_out_folder_before_the_work(capsys, tmp_path):
    """The --out check comes first: a register it would fail on is never read."""
    folder = exports_with_register(tmp_path, b"")  # ingest would stop on this file
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "a.txt").write_text("keep", encoding="utf-8")
    line = error_line(
        capsys, ["ingest", "--data", str(folder), *AS_OF, "--out", str(mine), "--no-notebook"]
    )
    assert "not an earlier output of this stage" in line and "empty file" not in line


def test_synth_into_a_folder_of_exports_is_refused_and_an_earlier_city_replaced(capsys, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "enterprises.csv").write_text("mine", encoding="utf-8")
    argv = ["synth", "--entities", "150", "--history", "18", "--out"]
    line = error_line(capsys, [*argv, str(exports)])
    assert "not an earlier output" in line and "_truth/generator.json" in line
    assert [p.name for p in exports.iterdir()] == ["enterprises.csv"]
    city = tmp_path / "city"
    assert run([*argv, str(city)]) == 0
    assert run([*argv, str(city)]) == 0  # an earlier city is replaced
    assert (city / "enterprises.csv").is_file()


def test_a_city_the_generator_refuses_is_one_line_before_any_work(capsys, tmp_path):
    """Beyond one shard a city is written clean: the generator's own refusal, one line."""
    argv = ["synth", "--entities", "2000000", "--errors", "0.01", "--out", str(tmp_path / "c")]
    line = error_line(capsys, argv)
    assert "written in shards, clean only" in line
    assert not (tmp_path / "c").exists()


def test_verify_of_a_missing_folder_is_a_user_error(capsys, tmp_path):
    line = error_line(capsys, ["verify", str(tmp_path / "absent")])
    assert f"{tmp_path / 'absent'} does not exist" in line


def test_contract_written_into_a_missing_folder_is_a_user_error(capsys, tmp_path):
    target = tmp_path / "absent" / "x.md"
    line = error_line(capsys, ["contract", "--write", str(target)])
    assert f"folder {target.parent} does not exist" in line


def test_output_into_a_closed_pipe_ends_quietly():
    import subprocess
    import sys

    script = "import sys; from workbench import cli; sys.exit(cli.main())"
    with subprocess.Popen(
        [sys.executable, "-c", script, "contract"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        proc.stdout.close()  # the reader is gone before the first line (`| head -0`)
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == cli.EXIT_PIPE_CLOSED
    assert stderr == ""
