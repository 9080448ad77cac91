import pytest

from workbench.workspace import atomic_directory


def test_atomic_directory_replaces_on_success(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "summary.json").write_text("{}")  # an earlier run's output (its marker)
    (target / "old.txt").write_text("old")
    with atomic_directory(target, "summary.json") as tmp:
        (tmp / "new.txt").write_text("new")
        assert not (target / "new.txt").exists()  # nothing visible until done
    assert (target / "new.txt").read_text() == "new"
    assert not (target / "old.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left behind


def test_atomic_directory_keeps_previous_output_on_failure(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "quality.json").write_text("{}")
    (target / "month.txt").write_text("previous month")
    with pytest.raises(RuntimeError), atomic_directory(target, "quality.json") as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("crash in the middle")
    assert (target / "month.txt").read_text() == "previous month"
    assert not (target / "half.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_folder_no_run_of_its_kind_wrote_is_refused_and_left_whole(tmp_path, monkeypatch):
    """``--out .``, an export folder, another stage's output: one clear error, nothing wiped."""
    from workbench.errors import ParameterError
    from workbench.workspace.folders import GradeFolder, IngestFolder, ResultsFolder

    def refused(target, marker, match):
        before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
        with pytest.raises(ParameterError, match=match):
            with atomic_directory(target, marker) as tmp:
                (tmp / marker).write_text("{}")
        assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before

    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep")
    (mine / "sub" / "b.txt").write_text("keep too")
    refused(mine, GradeFolder.MARKER, "not an earlier output of this stage")
    export = tmp_path / "export"  # a contract file named like the results' marker
    export.mkdir()
    for name in ("enterprises.csv", ResultsFolder.MARKER, "penalties.csv"):
        (export / name).write_text("mine")
    refused(export, GradeFolder.MARKER, "no summary.json")
    ingest = tmp_path / "ingest"
    ingest.mkdir()
    (ingest / IngestFolder.MARKER).write_text("{}")
    refused(ingest, GradeFolder.MARKER, "not an earlier output of this stage")
    a_file = tmp_path / "grades.csv"
    a_file.write_text("mine")
    refused(a_file, GradeFolder.MARKER, "is a file")
    monkeypatch.chdir(mine)
    refused(mine, GradeFolder.MARKER, "the working folder")
    (mine / GradeFolder.MARKER).write_text("{}")  # even an earlier output: not the cwd
    refused(mine, GradeFolder.MARKER, "the working folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    with atomic_directory(empty, GradeFolder.MARKER) as tmp:
        (tmp / GradeFolder.MARKER).write_text("{}")
    assert (empty / GradeFolder.MARKER).is_file()


def test_a_killed_writers_temporary_is_removed_and_a_live_ones_kept(tmp_path):
    import os
    import subprocess
    import sys

    target = tmp_path / "2026-10"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    abandoned = tmp_path / f".2026-10.tmp-{dead.stdout.strip()}-abc"
    live = tmp_path / f".2026-10.tmp-{os.getppid()}-def"  # the test runner's parent: alive
    for folder in (abandoned, live):
        folder.mkdir()
        (folder / "half.parquet").write_bytes(b"half")
    with atomic_directory(target, "whole.parquet") as tmp:
        (tmp / "whole.parquet").write_bytes(b"whole")
    assert not abandoned.exists()
    assert live.exists()
    assert (target / "whole.parquet").read_bytes() == b"whole"
