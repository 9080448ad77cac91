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
