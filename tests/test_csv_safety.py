"""CSV files people open never hold a live formula (OWASP CSV injection).

The rule itself, its inverse, the two writers (pandas and pyarrow) agreeing, and that no
writer of the workbench goes around them. ``tests/test_injection.py`` checks every CSV
a month of the cycle actually wrote, with hostile names in the register.
"""

import csv
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from workbench.evaluation.results_notice import NOTICE_COLUMNS, write_results_notice
from workbench.stages import grade
from workbench.workspace import csvsafe
from workbench.workspace.folders import EvaluationFolder, GradeFolder

HOSTILE = [
    '=HYPERLINK("http://example.invalid","点击")',
    "+1+1",
    "-2+3有限公司",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
]
HARMLESS = ["平顶山市新华区广华足疗店", "-14.5", "+3", "1e-3", "A-1", "", "'plain"]
SOURCE = Path(csvsafe.__file__).resolve().parents[1]
BYPASS = re.compile(r"^.*(?<!csvsafe)\.to_csv\(.*$", flags=re.M)


def test_text_that_a_spreadsheet_would_run_is_prefixed():
    for value in HOSTILE:
        assert csvsafe.defuse_value(value) == "'" + value
        assert not csvsafe.is_formula(csvsafe.defuse_value(value))
    assert csvsafe.is_formula(HOSTILE[0]) and not csvsafe.is_formula("-14.5")
    for value in HARMLESS:
        assert csvsafe.defuse_value(value) == value
    for value in (-14.5, 3, None, pd.Timestamp("2026-09-30")):
        assert csvsafe.defuse_value(value) is value


def test_restore_gives_back_what_was_written():
    for value in HOSTILE + HARMLESS + ["''=x", "'-1+1"]:
        assert csvsafe.restore_value(csvsafe.defuse_value(value)) == value


def test_numbers_stay_numbers_and_the_workbench_reads_the_originals(tmp_path):
    frame = pd.DataFrame(
        {
            "name": HOSTILE + HARMLESS,
            "points": [-14.5] * (len(HOSTILE) + len(HARMLESS)),
            "grade": pd.Categorical(["D"] * len(HOSTILE) + ["=A"] * len(HARMLESS)),
        }
    )
    folder = GradeFolder(tmp_path)
    csvsafe.to_csv(frame, folder.file("warnings"))
    raw = pd.read_csv(folder.file("warnings"), encoding="utf-8-sig", keep_default_na=False)
    assert (raw["points"] == -14.5).all()  # a number, not text, not prefixed
    assert raw["name"].iloc[: len(HOSTILE)].str.startswith("'").all()
    assert (raw["grade"].iloc[len(HOSTILE) :] == "'=A").all()
    back = folder.read_csv("warnings", keep_default_na=False)
    assert back["name"].tolist() == frame["name"].tolist()
    assert back["grade"].tolist() == frame["grade"].astype(str).tolist()


def test_pandas_and_pyarrow_writers_agree(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE + HARMLESS, "score": range(14)})
    csvsafe.to_csv(frame, tmp_path / "pandas.csv", encoding="utf-8")
    table = csvsafe.defuse_table(pa.Table.from_pandas(frame, preserve_index=False))
    pacsv.write_csv(table, tmp_path / "arrow.csv", pacsv.WriteOptions(quoting_style="needed"))
    read = {
        name: pd.read_csv(tmp_path / f"{name}.csv", keep_default_na=False)
        for name in ("pandas", "arrow")
    }
    pd.testing.assert_frame_equal(read["pandas"], read["arrow"])


def test_grades_csv_is_defused_and_keeps_its_confidentiality_line(tmp_path):
    rows = pd.DataFrame(
        {"uscc": [f"91410400MA000000{i:02d}" for i in range(len(HOSTILE))], "name": HOSTILE}
    ).assign(pd=0.1, reason_1_points=-12.5)
    grade._write_grade_files(rows, tmp_path)
    lines = (tmp_path / "grades.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == f"# {grade.CONFIDENTIAL_NOTE}"
    # Chinese, and one cell when Excel opens the file (no delimiter, no quote in it)
    assert next(csv.reader([lines[0]])) == [lines[0]]
    assert "内部参考" in lines[0] and not re.search(r"[A-Za-z]", lines[0])
    body = pd.read_csv(tmp_path / "grades.csv", encoding="utf-8-sig", skiprows=1)
    assert body["name"].tolist() == ["'" + v for v in HOSTILE]
    assert (body["reason_1_points"] == -12.5).all()
    assert pd.read_parquet(tmp_path / "grades.parquet")["name"].tolist() == HOSTILE


def test_public_results_notice_is_defused_and_escaped(tmp_path):
    notice = pd.DataFrame({header: ["x"] * 2 for header in NOTICE_COLUMNS.values()})
    name = NOTICE_COLUMNS["name"]
    notice[name] = ['=HYPERLINK("http://example.invalid","点击")', "<script>alert(1)</script>"]
    write_results_notice(notice, tmp_path)
    folder = EvaluationFolder(tmp_path)
    written = pd.read_csv(folder.file("notice_csv"), encoding="utf-8-sig", dtype=str)
    assert written[name].iloc[0].startswith("'=HYPERLINK")
    page = folder.file("notice_html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in page and "<script>" not in page


def test_no_writer_goes_around_the_helper():
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        if "demo" in path.relative_to(SOURCE).parts or path.name == "csvsafe.py":
            continue  # the demo writes the city's exports; csvsafe is the helper
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {line.strip()}" for line in BYPASS.findall(text)]
        offenders += [
            f"{path.name}: write_csv({call})"
            for call in re.findall(r"write_csv\(\s*([^,]+),", text)
            if "csvsafe.defuse_table" not in call
        ]
    assert not offenders, f"write CSVs for people through workspace.csvsafe: {offenders}"
