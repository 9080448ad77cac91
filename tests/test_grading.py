"""The monthly grading run end to end in a real MLflow store: files, reasons, integrity.

A private workspace (``WORKBENCH_HOME``) holds the session's small city, ingested once,
a model trained on it and promoted with permissive gates (the gates have their own
tests), and two consecutive graded months.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import PERMISSIVE_GATES
from workbench import cli, governance
from workbench import workspace as wb_workspace
from workbench.indicators import load_catalog
from workbench.indicators.engine import Engine
from workbench.stages import grade as grading
from workbench.workspace import integrity

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]


@pytest.fixture(scope="module")
def workspace(clean_city, tmp_path_factory):
    """Ingested city + promoted champion + grades for the last two months."""
    from workbench.stages import ingest
    from workbench.stages import train as train_stage

    home = tmp_path_factory.mktemp("grading-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        mp.setenv(integrity.KEY_ENV_FILE, str(home / ".workbench" / "signing.key"))
        mp.delenv(integrity.KEY_ENV, raising=False)
        mp.delenv(governance.URI_VARIABLE, raising=False)
        (home / "pyproject.toml").write_text("# test home\n")
        report = ingest.run_ingest(clean_city, None)
        data = Path(report["out"])
        summary = train_stage.run_training(
            train_stage.resolve(train_stage.Parameters(data=str(data)))
        )
        gates = home / "gates.yaml"
        gates.write_text(PERMISSIVE_GATES, encoding="utf-8")
        assert governance.promote(summary["run_id"], gates=str(gates)).promoted
        last = pd.Period(report["snapshot"][:7], "M")
        months = [str(last - 1), str(last)]
        for month in months:
            assert cli.main(["grade", "--month", month, "--no-notebook"]) == 0
        yield {"home": home, "months": months, "data": data, "run": summary}


def _folder(workspace, month):
    return workspace["home"] / "data" / "grades" / month


def test_two_consecutive_months_give_migration_and_warnings(workspace):
    first, second = (_folder(workspace, m) for m in workspace["months"])
    for folder in (first, second):
        for name in ("grades.parquet", "grades.csv", "migration.csv", "warnings.csv"):
            assert (folder / name).is_file(), name
    summary = grading.read_summary(second)
    assert summary["previous_month"] == workspace["months"][0]
    assert grading.read_summary(first)["previous_month"] is None
    matrix = pd.read_csv(second / "migration.csv", encoding="utf-8-sig", index_col=0)
    before, now = grading.read_grades(first), grading.read_grades(second)
    both = now.merge(before, on="uscc", suffixes=("", "_before"))
    for prev_grade, row in matrix.drop(index="新增").iterrows():
        for grade in summary["scheme"]["grades"]:
            expected = ((both["grade_before"] == prev_grade) & (both["grade"] == grade)).sum()
            assert row[grade] == expected
    assert matrix.loc["新增"].sum() == (~now["uscc"].isin(before["uscc"])).sum()
    assert matrix["退出"].sum() == (~before["uscc"].isin(now["uscc"])).sum()
    # the warning list holds exactly the enterprises that worsened ≥ 2 or entered the worst
    rank = {g: i for i, g in enumerate(summary["scheme"]["grades"])}
    jump = both["grade"].map(rank) - both["grade_before"].map(rank)
    worst = summary["scheme"]["grades"][-1]
    entered = (both["grade"] == worst) & (both["grade_before"] != worst)
    new_worst = now.loc[~now["uscc"].isin(before["uscc"]) & (now["grade"] == worst), "uscc"]
    expected = set(both.loc[(jump >= 2) | entered, "uscc"]) | set(new_worst)
    warned = pd.read_csv(second / "warnings.csv", encoding="utf-8-sig", dtype=str)
    assert set(warned["uscc"]) == expected
    assert warned["reason_1"].notna().any()


def test_grade_file_has_the_contract_columns_and_the_model_identity(workspace):
    folder = _folder(workspace, workspace["months"][1])
    rows = grading.read_grades(folder)
    assert tuple(rows.columns) == grading.GRADE_COLUMNS
    run = workspace["run"]
    assert set(rows["model_version"]) == {run["version"]}
    assert set(rows["run_id"]) == {run["run_id"]}
    assert rows["uscc"].is_unique
    # model grade and final grade differ only where a rule says which moved it
    moved = rows["model_grade"] != rows["grade"]
    assert rows.loc[moved, "override_rule"].notna().all()
    with open(folder / "grades.csv", encoding="utf-8-sig") as handle:
        assert "内部参考，不对外公开" in handle.readline()
    assert (folder / "grades.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it
    csv = pd.read_csv(folder / "grades.csv", encoding="utf-8-sig", skiprows=1, dtype={"uscc": str})
    assert csv["uscc"].tolist() == rows["uscc"].tolist()


def _recompute(workspace, month):
    """The month's matrix and model, to check the file against an independent pass."""
    model, _ = governance.load_grading_model("generic")
    snapshot = str(pd.Period(month, "M").end_time.date())
    with Engine(workspace["data"] / "tables") as engine:
        matrix = engine.compute(snapshot, load_catalog())
    return matrix, model


def test_points_sum_to_the_score_and_reasons_are_the_three_largest(workspace):
    month = workspace["months"][1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(workspace["home"]))
        matrix, model = _recompute(workspace, month)
    rows = grading.read_grades(_folder(workspace, month)).set_index("uscc")
    points = model.scorecard.points(matrix)
    points.index = matrix["uscc"]
    total = model.scorecard.base_points + points.sum(axis=1)  # 基础分 + integer points
    assert np.allclose(total, model.scorecard.score(matrix), atol=1e-6)
    assert np.allclose(rows.loc[points.index, "score"], total, atol=0.006)
    contrib = points - points.mean()
    names = {i.id: i.name for i in load_catalog().all}
    for uscc in rows.index[:300]:
        ranked = contrib.loc[uscc].sort_values()
        for k in range(3):
            text, value = rows.at[uscc, f"reason_{k + 1}"], rows.at[uscc, f"reason_{k + 1}_points"]
            if ranked.iloc[k] <= -1.0:
                assert text.startswith(names[ranked.index[k]] + " ")
                assert value == pytest.approx(round(ranked.iloc[k], 2))
            else:
                assert pd.isna(text) and pd.isna(value)


def test_grading_computes_what_it_reads_and_no_more(workspace, tmp_path):
    # a province's matrix is GBs: the month computes the model's indicators, the rules'
    # and the grade file's own two columns; the file matches the full matrix (test above)
    from workbench.grading import overrides

    asked = []
    compute = Engine.compute

    def recorded(self, snapshot, catalog):
        asked.append({i.id for i in catalog.all})
        return compute(self, snapshot, catalog)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(workspace["home"]))
        mp.setattr(Engine, "compute", recorded)
        model, _ = governance.load_grading_model("generic")
        month = workspace["months"][1]
        out = tmp_path / "grades"
        assert cli.main(["grade", "--month", month, "--out", str(out), "--no-notebook"]) == 0
    rules = overrides.load_rules(None)
    read = grading.graded_indicators(model, rules)
    assert set(model.features) | {"entity_type", "industry_section"} <= read
    assert {i for r in rules for i in r.indicators} <= read
    assert len(asked) == 1 and read <= asked[0] < {i.id for i in load_catalog().all}
    assert asked[0] == {i.id for i in load_catalog().restricted(read).all}


def test_shap_agrees_with_the_points(workspace):
    summary = grading.read_summary(_folder(workspace, workspace["months"][1]))
    assert summary["shap_points_max_gap"] < 1e-6


def test_files_are_owner_only(workspace):
    folder = _folder(workspace, workspace["months"][1])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_verify_passes_untouched_and_names_a_changed_file(workspace, tmp_path, capsys):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(_folder(workspace, workspace["months"][1]), folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(workspace["home"]))
        assert cli.main(["verify", str(folder)]) == 0
        assert "intact" in capsys.readouterr().out

        data = bytearray((folder / "grades.parquet").read_bytes())
        data[len(data) // 2] ^= 0x01  # one byte
        (folder / "grades.parquet").write_bytes(bytes(data))
        assert cli.main(["verify", str(folder)]) == 4
        out = capsys.readouterr().out
        assert "changed: grades.parquet" in out and "grades.csv" not in out

        lines = (folder / "grades.csv").read_text(encoding="utf-8-sig").splitlines(True)
        (folder / "grades.csv").write_text("".join(lines[:5] + lines[6:]), encoding="utf-8-sig")
        result = integrity.verify(folder)
        assert "grades.csv" in result.changed and not result.ok

        (folder / "warnings.csv").unlink()
        assert integrity.verify(folder).missing == ["warnings.csv"]

        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["files"]["grades.csv"] = integrity.sha256_file(folder / "grades.csv")
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        result = integrity.verify(folder)
        assert "grades.csv" not in result.changed and not result.signature_ok
        assert "signature does not match" in result.message()


def test_verify_with_another_key_fails(workspace, monkeypatch):
    monkeypatch.setenv(integrity.KEY_ENV, "another key that was never used to sign these")
    result = integrity.verify(_folder(workspace, workspace["months"][0]))
    assert not result.signature_ok and not result.changed


def test_a_key_file_readable_by_others_is_refused(tmp_path, monkeypatch):
    key = tmp_path / "signing.key"
    monkeypatch.setenv(integrity.KEY_ENV_FILE, str(key))
    monkeypatch.delenv(integrity.KEY_ENV, raising=False)
    integrity.signing_key()  # created once, owner-only
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key.chmod(0o644)
    with pytest.raises(integrity.SigningKeyError, match="chmod 600"):
        integrity.signing_key()


def test_missing_alias_or_model_fails_clearly_and_writes_nothing(workspace, capsys):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(workspace["home"]))
        out = workspace["home"] / "never"
        month = workspace["months"][1]
        assert cli.main(["grade", "--month", month, "--alias", "nosuch", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "has no version with alias 'nosuch'" in err and "champion→v" in err
        assert cli.main(["grade", "--month", month, "--family", "drugs", "--out", str(out)]) == 2
        assert "no registered model workbench-drugs" in capsys.readouterr().err
        assert not out.exists()
        assert not list(out.parent.glob(".never*"))


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from workbench.stages import grade
    from workbench.workspace import integrity

    def crash(*args, **kwargs):  # the process dies while the folder is half written
        os.kill(os.getpid(), signal.SIGKILL)

    integrity.write_manifest = crash
    grade.run(grade.resolve(grade.Parameters(month=sys.argv[1], mlflow=False)))
    """
)


def test_a_run_killed_mid_write_leaves_the_previous_month_intact(workspace):
    root = workspace["home"] / "data" / "grades"
    first, second = workspace["months"]
    before = {p.name: p.read_bytes() for p in (root / first).iterdir()}
    env = dict(os.environ, WORKBENCH_HOME=str(workspace["home"]))
    env[integrity.KEY_ENV_FILE] = str(workspace["home"] / ".workbench" / "signing.key")
    third = str(pd.Period(second, "M") + 1)  # a month past the data: refused, nothing written
    proc = subprocess.run([sys.executable, "-c", KILLER, third], env=env, capture_output=True)
    assert proc.returncode != 0 and b"ingest that month first" in proc.stderr
    # re-grade the first month and die before the manifest: the old folder must survive
    proc = subprocess.run([sys.executable, "-c", KILLER, first], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in (root / first).iterdir()} == before
    assert sorted(p.name for p in root.glob("*") if not p.name.startswith(".")) == [first, second]
    leftovers = list(root.glob(f".{first}.tmp-*"))
    assert leftovers  # the killed run's temporary folder, never read as a month
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(workspace["home"]))
        assert wb_workspace.current().grades.months() == [first, second]
        assert integrity.verify(root / first).ok
        grading.run(grading.resolve(grading.Parameters(month=first, mlflow=False)))
        assert not list(root.glob(f".{first}.tmp-*"))  # the next run cleans it up
        assert integrity.verify(root / first).ok
