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
