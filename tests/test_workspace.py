import pytest

from workbench.workspace import atomic_directory


def test_atomic_directory_replaces_on_success(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
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
    (target / "month.txt").write_text("previous month")
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("crash in the middle")
    assert (target / "month.txt").read_text() == "previous month"
    assert not (target / "half.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


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
