"""Ingest on generated cities: clean, messy, deliberately corrupted; the stage notebook."""

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from workbench import contract
from workbench.contract import uscc
from workbench.demo import synth
from workbench.intake import load
from workbench.stages import ingest, notebook, runner
from workbench.workspace.folders import IngestFolder

SNAPSHOT = synth.DEFAULT_END


def test_clean_city_is_fully_attributed_and_nothing_quarantined(clean_city, tmp_path):
    report = ingest.run_ingest(clean_city, SNAPSHOT, tmp_path / "out")
    assert report["attribution"]["rate"] == 1.0
    assert report["attribution"]["event_rows"] > 1000
    assert report["totals"]["quarantined"] == 0
    assert report["check_digit_failures"]["count"] == 0
    assert report["missing_tables"] == []
    for name, info in report["tables"].items():
        assert info["accepted"] == info["rows_read"] > 0, name
    coverage = report["coverage"]["by_table"]
    assert set(coverage) == set(contract.EVENT_TABLES)
    # most active enterprises have reported (recent entrants have no report year yet)
    assert 0.8 < coverage["annual_reports"]["share"] <= 1.0
    assert 0 < coverage["penalties"]["share"] < 0.5
    written = json.loads((tmp_path / "out" / "quality.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(report, ensure_ascii=False, default=str))
    assert {p.stem for p in (tmp_path / "out" / "tables").glob("*.parquet")} == set(contract.TABLES)


def test_messy_exports_load_to_the_same_content(clean_city, messy_city):
    clean = load.load_folder(clean_city, SNAPSHOT)
    messy = load.load_folder(messy_city, SNAPSHOT)
    formats = {t.file_format for t in messy.values()}
    encodings = {t.encoding for t in messy.values()}
    assert {"csv", "xlsx", "parquet"} <= formats  # the messy city exercises every path
    assert {"gbk", "utf-8-sig"} <= encodings
    for name, table in clean.items():
        other = messy[name]
        assert other.quarantine.empty, (name, other.quarantine.head().to_dict("records"))
        columns = [c.name for c in contract.TABLES[name].columns]
        a = table.accepted[columns].astype(str).sort_values(columns, ignore_index=True)
        b = other.accepted[columns].astype(str).sort_values(columns, ignore_index=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)


def _flip_check(code: str) -> str:
    return code[:17] + ("0" if code[17] != "0" else "1")


def test_corrupted_copy_reports_exactly_the_rows_corrupted(city_copy, tmp_path):
    """Corrupt chosen rows of a clean city; the report must name exactly those."""
    rng = np.random.default_rng(11)

    def read(table):
        return pd.read_csv(city_copy / f"{table}.csv", dtype=str, keep_default_na=False)

    def pick(frame, k, taken=()):
        free = np.setdiff1d(np.arange(len(frame)), list(taken))
        return list(rng.choice(free, size=k, replace=False))

    expected: dict[str, dict[int, str]] = {}
    unattributed = 0
    unregistered = uscc.make_codes(np.array(["1"]), np.array(["410402"]), np.array([99_999_998]))[0]

    pen = read("penalties")
    rows = pick(pen, 5)
    pen.loc[rows[0], "uscc"] = unregistered
    pen.loc[rows[1], "decided_on"] = "2023-02-30"
    pen.loc[rows[2], "fine_amount"] = "-50"
    pen.loc[rows[3], "severity"] = "特别严重"
    pen.loc[rows[4], "uscc"] = _flip_check(pen.loc[rows[4], "uscc"])
    pen.to_csv(city_copy / "penalties.csv", index=False)
    expected["penalties"] = {
        rows[0] + 2: "uscc_not_registered",
        rows[1] + 2: "invalid_date",
        rows[2] + 2: "negative_amount",
        rows[3] + 2: "unknown_code",
        rows[4] + 2: "uscc_check_digit",
    }
    unattributed += 2

    com = read("complaints")
    rows = pick(com, 2)
    com.loc[rows[0], "uscc"] = "91410402MA00000"
    com.loc[rows[1], "received_on"] = "2026-11-01"  # after the snapshot
    com.to_csv(city_copy / "complaints.csv", index=False)
    expected["complaints"] = {rows[0] + 2: "uscc_malformed", rows[1] + 2: "date_after_snapshot"}
    unattributed += 1

    ins = read("inspections")
    rows = pick(ins, 1)
    ins.loc[rows[0], "result"] = "查无此结果"
    ins.to_csv(city_copy / "inspections.csv", index=False)
    expected["inspections"] = {rows[0] + 2: "unknown_code"}

    rep = read("annual_reports")
    row = pick(rep, 1)[0]
    rep = pd.concat([rep, rep.iloc[[row]]], ignore_index=True)  # a repeated (uscc, year)
    rep.to_csv(city_copy / "annual_reports.csv", index=False)
    expected["annual_reports"] = {len(rep) + 1: "duplicate_key"}

    ent = read("enterprises")
    ent = pd.concat([ent, ent.iloc[[5]]], ignore_index=True)
    ent.loc[3, "established_on"] = "20230230"
    ent.to_csv(city_copy / "enterprises.csv", index=False)
    expected["enterprises"] = {len(ent) + 1: "duplicate_uscc", 5: "invalid_date"}
    lost = ent.loc[3, "uscc"]  # its events are no longer attributed to a registered enterprise

    report = ingest.run_ingest(city_copy, SNAPSHOT, tmp_path / "out")
    quarantined = {
        name: dict(zip(q[load.ROW_COLUMN], q[load.REASON_COLUMN], strict=True))
        for name in report["tables"]
        if (q := _quarantine(tmp_path / "out", name)) is not None
    }
    orphans = _events_of(city_copy, lost)  # rows of the enterprise quarantined at row 5
    for name, extra in orphans.items():
        for row in extra:
            expected.setdefault(name, {})[row] = "uscc_not_registered"
    assert quarantined == expected
    totals = report["totals"]
    assert totals["quarantined"] == sum(len(v) for v in expected.values())
    counts = {}
    for per_table in expected.values():
        for reason in per_table.values():
            counts[reason] = counts.get(reason, 0) + 1
    assert totals["by_reason"] == dict(
        sorted(counts.items(), key=lambda kv: load.REASON_ORDER[kv[0]])
    )
    event_rows = report["attribution"]["event_rows"]
    orphan_rows = sum(len(v) for k, v in orphans.items() if k in contract.EVENT_TABLES)
    assert report["attribution"]["attributed_rows"] == event_rows - unattributed - orphan_rows


def _quarantine(out, name):
    path = out / "quarantine" / f"{name}.csv"
    return (
        pd.read_csv(path, dtype=str, keep_default_na=False).astype({load.ROW_COLUMN: int})
        if path.exists()
        else None
    )


def _events_of(city, code):
    found = {}
    for name, spec in contract.TABLES.items():
        if not spec.attributed or not (city / f"{name}.csv").exists():
            continue
        frame = pd.read_csv(city / f"{name}.csv", dtype=str, keep_default_na=False)
        hits = list(np.flatnonzero(frame["uscc"].to_numpy() == code) + 2)
        if hits:
            found[name] = hits
    return found


def _tree_hash(folder):
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_failed_ingest_leaves_the_previous_output_intact(city_copy, tmp_path):
    out = tmp_path / "out"
    ingest.run_ingest(city_copy, SNAPSHOT, out)
    before = _tree_hash(out)
    frame = pd.read_csv(city_copy / "penalties.csv", dtype=str)
    frame.drop(columns=["severity"]).to_csv(city_copy / "penalties.csv", index=False)
    with pytest.raises(load.ContractError, match=r"penalties \(行政处罚\).*severity \(处罚等级\)"):
        ingest.run_ingest(city_copy, SNAPSHOT, out)
    assert _tree_hash(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_event_table_is_reported_once(city_copy, tmp_path):
    (city_copy / "judicial.csv").unlink()
    report = ingest.run_ingest(city_copy, SNAPSHOT, tmp_path / "out")
    assert [m["table"] for m in report["missing_tables"]] == ["judicial"]
    assert "judicial" not in report["attribution"]["by_table"]


def test_ingest_notebook_runs_by_papermill_and_renders(clean_city, tmp_path):
    out = tmp_path / "ingest"
    outcome = runner.execute(
        "ingest", ingest.Parameters(data=str(clean_city), as_of=SNAPSHOT, out=str(out))
    )
    executed = outcome.executed
    assert executed.is_file() and executed.with_suffix(".html").is_file()
    assert (
        json.loads((out / "quality.json").read_text(encoding="utf-8"))["attribution"]["rate"] == 1
    )
    nb = json.loads(executed.read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"]["out"] == str(out)
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    images = [
        o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert len(images) == 1  # the coverage chart
    html = executed.with_suffix(".html").read_text(encoding="utf-8")
    assert "记名率" in html and "data:image/png;base64" in html
    assert "import warnings" not in html  # rendered without code


def test_stage_refuses_unknown_parameters():
    with pytest.raises(ValueError, match="no parameter.*snapshott"):
        notebook.run_notebook("01_ingest.ipynb", {"snapshott": SNAPSHOT}, "never")


def test_cli_ingest_prints_where_the_report_is(clean_city, tmp_path, capsys):
    from workbench import cli

    out = tmp_path / "cli-out"
    code = cli.main(
        [
            "ingest",
            "--data",
            str(clean_city),
            "--as-of",
            SNAPSHOT,
            "--out",
            str(out),
            "--no-notebook",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert f"data-quality report: {out / 'quality.json'}" in printed
    assert "记名率 100.00%" in printed


def test_cli_reports_contract_errors_without_traceback(tmp_path, capsys):
    from workbench import cli

    (tmp_path / "enterprises.csv").write_text("uscc,name\n", encoding="utf-8")
    code = cli.main(
        ["ingest", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--no-notebook"]
    )
    assert code == 2
    assert "missing required column(s) entity_type (市场主体类型)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_injected_errors_are_reported_exactly(tmp_path):
    """A messy city with errors injected on purpose: the quarantine names exactly those rows."""
    city = tmp_path / "city"
    summary = synth.generate_city(city, entities=2000, months=24, seed=5, messy=True, errors=0.01)
    injected = pd.read_csv(city / "_truth" / "injected_errors.csv", dtype={"written": str})
    assert summary.errors == len(injected) > 20
    assert set(injected["expected_reason"]) >= {
        "uscc_not_registered",
        "uscc_malformed",
        "uscc_check_digit",
        "invalid_date",
        "date_after_snapshot",
        "negative_amount",
        "unknown_code",
        "missing_value",
        "duplicate_key",
    }
    report = ingest.run_ingest(city, SNAPSHOT, tmp_path / "out")
    found = set()
    for name in report["tables"]:
        q = _quarantine(tmp_path / "out", name)
        if q is not None:
            found |= {
                (name, r, why)
                for r, why in zip(q[load.ROW_COLUMN], q[load.REASON_COLUMN], strict=True)
            }
    expected = set(
        zip(injected["table"], injected["source_row"], injected["expected_reason"], strict=True)
    )
    assert found == expected
    unattributed = injected["expected_reason"].str.startswith("uscc_").sum()
    attribution = report["attribution"]
    assert attribution["event_rows"] - attribution["attributed_rows"] == unattributed
    assert 0.99 < attribution["rate"] < 1.0


def test_feedback_rows_are_validated_appended_and_counted_apart(clean_city, tmp_path):
    """Results of the workbench's own plans join the inspections table; bad ones quarantined."""
    registered = pd.read_csv(clean_city / "enterprises.csv", dtype=str)["uscc"].head(2).tolist()
    feedback = tmp_path / "results-2026-01"
    feedback.mkdir()
    pd.DataFrame(
        {
            "uscc": [*registered, "91410402MA00000000"],
            "inspected_on": ["2020-01-10", "2020-01-11", "2020-01-12"],
            "result": ["no_problem", "not_disclosed", "no_problem"],
            "plan_id": "demo-2020-01",
            "task_id": ["T1", "T2", "T3"],
        }
    ).to_csv(feedback / "inspections.csv", index=False)
    snapshot = synth.DEFAULT_END
    plain = ingest.run_ingest(clean_city, snapshot, tmp_path / "plain")
    report = ingest.run_ingest(clean_city, snapshot, tmp_path / "fed", [feedback])
    [entry] = report["feedback"]
    assert (entry["table"], entry["rows_read"], entry["accepted"], entry["quarantined"]) == (
        "inspections",
        3,
        2,
        1,
    )
    before = IngestFolder(tmp_path / "plain").read_table("inspections")
    after = IngestFolder(tmp_path / "fed").read_table("inspections")
    assert len(after) == len(before) + 2
    assert set(after.loc[after["plan_id"] == "demo-2020-01", "task_id"]) == {"T1", "T2"}
    assert after.loc[after["task_id"] == "T2", "found_problem"].tolist() == [True]
    rejected = pd.read_csv(
        tmp_path / "fed" / "quarantine" / "inspections.results-2026-01.csv", encoding="utf-8-sig"
    )
    assert rejected["task_id"].tolist() == ["T3"]
    assert plain["feedback"] == []
    with pytest.raises(load.ContractError, match="feedback folder"):
        ingest.run_ingest(clean_city, snapshot, tmp_path / "x", [tmp_path / "nowhere"])
    assert not (tmp_path / "x").exists()


def test_relative_paths_are_taken_from_where_the_command_runs(clean_city, tmp_path, monkeypatch):
    """`workbench ingest --data data/city` from the workspace root, through the notebook
    (which runs elsewhere): the relative paths mean the caller's directory."""
    from workbench import cli

    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    shutil.copytree(clean_city, root / "data" / "city", ignore=shutil.ignore_patterns("_truth"))
    monkeypatch.setenv("WORKBENCH_HOME", str(root))
    monkeypatch.chdir(root)
    args = ["ingest", "--data", "data/city", "--as-of", SNAPSHOT, "--out", "ingested"]
    assert cli.main(args) == 0
    assert IngestFolder(root / "ingested").quality()["data_dir"] == str(root / "data" / "city")
    runs = list((root / "reports" / SNAPSHOT[:7] / "runs").glob("*01_ingest.html"))
    assert len(runs) == 1  # the audit copy of this run, kept under its own name
    assert cli.main(args) == 0  # a second run keeps the first run's copy
    assert len(list((root / "reports" / SNAPSHOT[:7] / "runs").glob("*01_ingest.html"))) == 2
