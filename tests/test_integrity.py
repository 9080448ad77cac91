"""Use only what verifies: tampered or misplaced grade folders are refused by every stage.

Each test builds a tiny signed grade folder in a private workspace (the refusals happen
before anything else is read, so no model or city is needed).
"""

import json
import shutil

import pandas as pd
import pytest
from grade_data import signed_month

from workbench import cli
from workbench.stages import evaluate, health, report, sample
from workbench.workspace import integrity


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private workspace whose key file is created by the first signature."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv(integrity.KEY_ENV, raising=False)
    monkeypatch.delenv(integrity.KEY_ENV_FILE, raising=False)
    (tmp_path / "pyproject.toml").write_text("# test home\n")
    return tmp_path


def test_tampered_grades_are_never_sampled(home, tmp_path, capsys):
    original = signed_month("2026-09")
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    frame = pd.read_parquet(copy / "grades.parquet")
    frame.loc[frame["grade"] == "D", "grade"] = "A"  # D enterprises rewritten to A
    frame.to_parquet(copy / "grades.parquet", index=False)

    assert cli.main(["sample", "demo_monthly", "--grades", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "failed verification" in err and "grades.parquet changed" in err
    assert not (home / "data" / "sampling").exists()
    # the intact copy passes the check and the stage goes on (to the missing ingest)
    shutil.rmtree(copy)
    shutil.copytree(original, copy)
    with pytest.raises(sample.NotReadyError, match="no ingest for 2026-09"):
        sample.resolve(sample.Parameters(plan="demo_monthly", grades=str(copy)))


def test_evaluate_health_and_report_refuse_a_tampered_month(home):
    signed_month("2026-08")
    folder = signed_month("2026-09")
    (folder / "grades.csv").write_text("uscc,grade\n", encoding="utf-8")
    tasks = pd.DataFrame({"snapshot": ["2026-09-30"]})
    for refused in (
        lambda: evaluate._grades("2026-09", tasks),
        lambda: health.run_health("2026-09"),
        lambda: report.run(report.Parameters(month="2026-09", pdf=False)),
    ):
        with pytest.raises(integrity.IntegrityError, match=r"2026-09 failed .*grades\.csv changed"):
            refused()
    # an earlier month that changed also stops the months that read it
    (home / "data" / "grades" / "2026-08" / "extra.txt").write_text("x", encoding="utf-8")
    with pytest.raises(integrity.IntegrityError, match=r"2026-08 failed .*extra\.txt added"):
        health.run_health("2026-09")
    assert not (home / "data" / "health").exists()


def test_a_month_copied_under_another_month_is_refused(home, capsys):
    september = signed_month("2026-09")
    october = september.with_name("2026-10")
    shutil.copytree(september, october)
    result = integrity.verify(october)
    assert not result.ok and result.month == "2026-09" and not result.changed
    assert "signed for 2026-09, but the folder is named 2026-10" in result.message()
    assert cli.main(["verify", str(october)]) == 4
    assert "signed for 2026-09" in capsys.readouterr().out
    assert cli.main(["sample", "demo_monthly", "--month", "2026-10"]) == 2
    assert "signed for 2026-09" in capsys.readouterr().err
    # a copy under a name that is no month is checked against the month asked for
    other = september.with_name("backup")
    shutil.copytree(september, other)
    assert integrity.verify(other).ok
    with pytest.raises(integrity.IntegrityError, match="holds the grades of 2026-09, not"):
        integrity.require_intact(other, "2026-10")


def test_verify_never_creates_a_key(home, tmp_path, monkeypatch, capsys):
    folder = signed_month("2026-09")
    key = home / ".workbench" / "signing.key"
    moved = tmp_path / "elsewhere.key"
    key.rename(moved)
    assert cli.main(["verify", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "no signing key" in err and str(key) in err and "WORKBENCH_SIGNING_KEY_FILE" in err
    assert not key.exists()  # nothing was created
    monkeypatch.setenv(integrity.KEY_ENV_FILE, str(moved))
    assert cli.main(["verify", str(folder)]) == 0


def test_another_key_is_told_apart_from_an_edited_manifest(home, monkeypatch):
    folder = signed_month("2026-09")
    monkeypatch.setenv(integrity.KEY_ENV, "a different key, as long as a real one is" * 2)
    result = integrity.verify(folder)
    assert not result.ok and result.other_key and not result.changed
    assert "signed with another key" in result.message()
    monkeypatch.delenv(integrity.KEY_ENV)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["meta"]["snapshot"] = "2026-09-01"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = integrity.verify(folder)
    assert not result.ok and not result.other_key
    assert "the manifest was edited" in result.message()
