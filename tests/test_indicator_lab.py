"""The indicator lab: runs on a prepared workspace, leaves every stage output untouched,
and logs its retraining as an experiment run that only the gates can promote."""

import hashlib
import json

import papermill
import pytest

from workbench import governance, workspace
from workbench.analysis import indicator_lab as lab

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]


def _fingerprint(root):
    """SHA-256 of every file a stage wrote (data/ and reports/), except the lab's scratch."""
    digest = {}
    for sub in ("data", "reports"):
        for path in sorted((root / sub).rglob("*")):
            if path.is_file():
                digest[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def test_lab_notebook_leaves_stage_outputs_untouched_and_logs_an_experiment(
    prepared_home, tmp_path, monkeypatch
):
    monkeypatch.setenv("WORKBENCH_HOME", str(prepared_home))
    before = _fingerprint(prepared_home)
    champion = governance.champion_version("generic")
    executed = tmp_path / "indicator_lab.ipynb"
    papermill.execute_notebook(
        str(workspace.notebooks_dir() / "lab" / "indicator_lab.ipynb"),
        str(executed),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    outputs = [o for c in json.loads(executed.read_text())["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    assert _fingerprint(prepared_home) == before  # no stage output changed
    assert (lab.scratch_dir() / "panel" / "panel.parquet").is_file()
    assert governance.champion_version("generic") == champion  # the champion stays
    with governance.store() as client:
        runs = client.search_runs(
            [e.experiment_id for e in client.search_experiments()],
            filter_string=f"tags.`{lab.EXPERIMENT_TAG}` = '{lab.EXPERIMENT}'",
        )
    assert len(runs) >= 1 and "pen_price_36m" in runs[0].data.params["candidates"]


def test_a_malformed_snippet_is_one_clear_error(tmp_path):
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="one indicator"):
        lab.candidate_catalog("- 1\n- 2\n", tmp_path)
    with pytest.raises(WorkbenchError, match="indicator x_new: field"):
        lab.candidate_catalog("id: x_new\nname: 新\ndimension: 监管信息\nsource: fines\n", tmp_path)
