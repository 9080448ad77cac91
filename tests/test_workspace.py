import pytest

from workbench.workspace import atomic_directory


def test_atomic_directory_replaces_on_success(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "summary.json").write_text("{}")  # an earlier run's output (its marker)
    (target / "old.txt").write_text("old")
    with atomic_directory(target) as tmp:
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
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("crash in the middle")
    assert (target / "month.txt").read_text() == "previous month"
    assert not (target / "half.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_folder_no_run_wrote_is_refused_and_left_whole(tmp_path):
    """``--out .`` in a folder of one's own files: one clear error, not a wiped folder."""
    from workbench.errors import ParameterError

    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep")
    (mine / "sub" / "b.txt").write_text("keep too")
    with pytest.raises(ParameterError, match="holds files no workbench run wrote"):
        with atomic_directory(mine) as tmp:
            (tmp / "summary.json").write_text("{}")
    assert (mine / "notes.txt").read_text() == "keep"
    assert (mine / "sub" / "b.txt").read_text() == "keep too"
    assert not (mine / "summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary left
    a_file = tmp_path / "grades.csv"
    a_file.write_text("mine")
    with pytest.raises(ParameterError, match="is a file"):
        with atomic_directory(a_file):
            pass
    assert a_file.read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    with atomic_directory(empty) as tmp:
        (tmp / "draw.json").write_text("{}")
    assert (empty / "draw.json").is_file()


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
    with atomic_directory(target) as tmp:
        (tmp / "whole.parquet").write_bytes(b"whole")
    assert not abandoned.exists()
    assert live.exists()
    assert (target / "whole.parquet").read_bytes() == b"whole"
