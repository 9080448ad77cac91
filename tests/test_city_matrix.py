"""A matrix of cities unlike the demo, each through ingest → train → promote → grade → sample.

Every stage runs with its defaults (through the runner the CLI uses, without notebooks).
Each city either goes all the way or stops at training with a readiness message naming
what is missing; where a model is trained, the held-out (out-of-time) labels' bad rate
rises from grade A to grade D. The grid is compact to stay fast: the two short histories,
a 36-month city of another prefecture without four optional tables and ending in March,
and a 60-month industrial city whose risk runs through events. The whole grid, with two
more risk structures, is measured by ``bench/bench_city_matrix.py`` (``bench/README.md``).
"""

import pytest

from workbench import contract
from workbench.demo.synth.matrix import GRID, run_case

#: A city of 3,000 enterprises is too small for the default gates: this bureau's are lax
#: (as in conftest.py); the gates themselves are tested elsewhere.
PERMISSIVE_GATES = (
    "auc_min: 0.5\nks_min: 0.0\npsi_max: null\ngrades_monotone: false\nmax_missing_share: 1.0\n"
)
CASES = {c.name: c for c in GRID}
SHORT = ("h18", "h24-services")  # too short for any embargoed design
TRAINED = ("h36-tonghua-no-optional", "h60-industrial-events")
STAGES = ("ingest", "train", "promote", "grade", "sample")

pytestmark = [
    pytest.mark.filterwarnings("ignore::workbench.scoring.scorecard.ScorecardWarning"),
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One MLflow store for the grid (its tables are created once, not per city)."""
    return f"sqlite:///{tmp_path_factory.mktemp('matrix-mlflow') / 'mlflow.db'}"


def _run(name, store, tmp_path_factory):
    """One city of the grid, generated and run once in its own workspace."""
    from workbench.governance import URI_VARIABLE

    root = tmp_path_factory.mktemp(name)
    home = root / "home"
    (home / "conf").mkdir(parents=True)
    (home / "pyproject.toml").write_text("# matrix home\n")
    (home / "conf" / "gates.yaml").write_text(PERMISSIVE_GATES, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_HOME", str(home))
        patch.setenv(URI_VARIABLE, store)
        return run_case(CASES[name], root)


@pytest.fixture(scope="module", params=SHORT)
def short(request, store, tmp_path_factory):
    """A city whose history is too short to train."""
    return _run(request.param, store, tmp_path_factory)


@pytest.fixture(scope="module", params=TRAINED)
def trained(request, store, tmp_path_factory):
    """A city whose history allows a design."""
    return _run(request.param, store, tmp_path_factory)


def test_a_short_history_stops_at_training_naming_what_is_missing(short):
    history = short.case.profile.history_months
    assert list(short.stages) == ["ingest", "train"] and short.stages["ingest"] == "ok"
    message = short.stages["train"]
    assert f"holds {history} months of history" in message
    assert "more months of history are needed" in message
    assert "workbench check" in message


def test_every_stage_succeeds_with_the_defaults(trained):
    assert trained.stopped is None, trained.stopped
    assert trained.stages == dict.fromkeys(STAGES, "ok")
    assert trained.design.startswith("design: training")


def test_grades_rise_from_a_to_d_on_held_out_labels(trained):
    rates = trained.bad_rate_by_grade
    assert set(rates) == set("ABCD")
    assert trained.metrics["valid_auc"] > 0.55  # the data carries signal in these cities
    assert rates["D"] > rates["A"], rates
    assert rates["C"] + rates["D"] > rates["A"] + rates["B"], rates  # the worse half is worse
    # no step between neighbouring grades falls beyond its noise (clustered by enterprise)
    assert trained.metrics["grades_order_z"] > -1.645, (trained.metrics["grades_order_z"], rates)


def test_indicators_of_absent_tables_are_left_out_with_the_reason(trained):
    absent = trained.case.profile.absent
    reasons = list(trained.excluded.values())
    said = {t for t in contract.TABLES if any(f"table {t} " in why for why in reasons)}
    assert said == set(absent), trained.excluded  # every absent table named, no other
    assert all(
        why.startswith(("table ", "all missing", "constant", "cannot be binned", "column "))
        for why in trained.excluded.values()
    ), trained.excluded


# ------------------------------------------------------------------ the generator's options


def test_synth_options_write_a_city_unlike_the_demo(tmp_path, capsys):
    import json

    import pandas as pd

    from workbench import cli

    out = tmp_path / "city"
    args = ["synth", "--out", str(out), "--entities", "400", "--months", "24", "--seed", "5"]
    args += ["--end", "2026-03-31", "--history", "24", "--place", "tonghua"]
    args += ["--without", "judicial,licenses", "--industry-mix", "industrial", "--risk", "events"]
    assert cli.main(args) == 0
    written = {p.stem for p in out.iterdir() if p.is_file()}
    assert "judicial" not in written and "licenses" not in written and "penalties" in written
    register = pd.read_csv(out / "enterprises.csv", dtype=str)
    assert register["region_code"].str.startswith("2205").all()  # 通化市's counties
    assert register["name"].str.contains("平顶山").sum() == 0
    for table, column in (("penalties", "decided_on"), ("inspections", "inspected_on")):
        dates = pd.to_datetime(pd.read_csv(out / f"{table}.csv", dtype=str)[column])
        assert dates.min() >= pd.Timestamp("2024-04-01") and dates.max() <= pd.Timestamp(
            "2026-03-31"
        )
    profile = json.loads((out / "_truth" / "generator.json").read_text())["profile"]
    assert profile["place"] == "tonghua" and profile["absent"] == ["judicial", "licenses"]
    assert cli.main(["synth", "--out", str(out), "--without", "enterprises"]) == 2
    assert "allowed" in capsys.readouterr().err


def test_a_profile_changes_the_world_and_the_ceiling_can_regenerate_it(tmp_path):
    import pandas as pd

    from workbench.demo import synth
    from workbench.demo.synth.ceiling import _regenerate
    from workbench.demo.synth.profile import CityProfile

    base = dict(entities=400, months=24, seed=5, end="2026-03-31")
    demo = synth.generate_city(tmp_path / "demo", **base)
    other = synth.generate_city(
        tmp_path / "other", profile=CityProfile(risk="attributes", industry_mix="services"), **base
    )
    truth = [pd.read_parquet(s.out_dir / "_truth" / "entities.parquet") for s in (demo, other)]
    assert not truth[0]["static_logit"].equals(truth[1]["static_logit"])
    params, _, reg = _regenerate(other.out_dir / "_truth")  # the ceiling re-runs this city
    assert params["profile"]["risk"] == "attributes" and reg.risk.id == "attributes"
