"""First contact with an export: the design the data allows, the readiness report, training
that leaves out what cannot be used, the contract's required tables."""

import pandas as pd
import pytest

from workbench import cli, contract
from workbench.errors import NotReadyError, ParameterError
from workbench.indicators import load_catalog
from workbench.intake import readiness
from workbench.scoring import design, labels
from workbench.scoring.panel import build_panel
from workbench.scoring.train import screen_candidates, train_family

HORIZON = 12
#: Small cities have few bad outcomes per candidate: the scorecard says so, rightly.
FEW_EVENTS = "ignore::workbench.scoring.scorecard.ScorecardWarning"


def months_from(start: str, count: int) -> tuple[str, str]:
    """A history of ``count`` whole months starting on the first day of ``start``'s month."""
    first = pd.Timestamp(start).replace(day=1)
    last = first + pd.DateOffset(months=count) - pd.Timedelta(days=1)
    return str(first.date()), str(last.date())


# ------------------------------------------------------------------------- the design


@pytest.mark.parametrize("held", [27, 30, 36, 48, 60, 120])
def test_every_design_respects_the_embargo_and_the_data(held):
    start, end = months_from("2020-01-01", held)
    chosen = design.plan_design(end, HORIZON, start)
    train, valid = chosen.train, chosen.valid
    assert design.MIN_TRAIN_MONTHS <= len(train) <= design.MAX_TRAIN_MONTHS
    assert 1 <= len(valid) <= design.VALID_MONTHS
    assert train[-1] + pd.DateOffset(months=HORIZON) <= valid[0]  # the embargo
    assert valid[-1] + pd.DateOffset(months=HORIZON) <= pd.Timestamp(end)  # labels observable
    assert train[0] >= pd.Timestamp(start)  # inside the history
    assert list(train) == list(pd.date_range(train[0], train[-1], freq="ME"))


def test_longer_history_gives_the_full_design():
    start, end = months_from("2014-01-01", 120)
    full = design.plan_design(end, HORIZON, start)
    assert len(full.train) == design.MAX_TRAIN_MONTHS and len(full.valid) == design.VALID_MONTHS
    assert full.warmup_months >= design.WARMUP_MONTHS
    # without a known history start: the same full design
    assert design.plan_design(end, HORIZON).train == full.train


def test_short_history_gives_up_warmup_then_validation_months_never_the_embargo():
    start, end = months_from("2023-04-01", 36)
    chosen = design.plan_design(end, HORIZON, start)  # the longest window first
    assert (len(chosen.train), len(chosen.valid), chosen.warmup_months) == (10, 3, 0)
    start, end = months_from("2023-04-01", 36 + design.WARMUP_MONTHS)  # room for a warm-up
    roomy = design.plan_design(end, HORIZON, start)
    assert (len(roomy.train), roomy.warmup_months) == (10, design.WARMUP_MONTHS)
    shortest = design.minimum_history(HORIZON)
    start, end = months_from("2023-04-01", shortest)
    tight = design.plan_design(end, HORIZON, start)
    assert (len(tight.train), len(tight.valid), tight.warmup_months) == (
        design.MIN_TRAIN_MONTHS,
        design.MIN_VALID_MONTHS,
        0,
    )


@pytest.mark.parametrize("held", [18, 24, 26])
def test_too_short_history_says_how_much_more_is_needed(held):
    start, end = months_from("2024-01-01", held)
    with pytest.raises(design.DesignError) as caught:
        design.plan_design(end, HORIZON, start)
    more = design.minimum_history(HORIZON) - held
    assert caught.value.more_months == more
    assert f"holds {held} months" in str(caught.value)
    assert f"{more} more month" in str(caught.value)
    # exactly that many more months make a design
    _, later = months_from(start, held + more)
    assert design.plan_design(later, HORIZON, start).train


def test_a_panel_too_short_for_the_split_names_a_validation_from_that_works():
    months = pd.date_range("2024-01-31", "2025-04-30", freq="ME")
    rows = pd.DataFrame({"snapshot": months.repeat(2), "label": [0.0, 1.0] * len(months)})
    expected = r"on or before 2023-12-31.*--validation-from 2025-03-31. would leave 3 training"
    with pytest.raises(ParameterError, match=expected) as err:
        train_family(rows, load_catalog(), validation_from="2024-12-31")
    assert "workbench indicators --panel" in str(err.value)
    # most validation months that still leave the minimum of training months
    assert design.split_for_panel(months, HORIZON) == (pd.Timestamp("2025-03-31"), 3, 2)


# ------------------------------------------------------------------------- screening


def test_unusable_indicators_are_screened_with_their_reason():
    train = pd.DataFrame(
        {
            "label": [0, 1, 0, 1, 0, 0],
            "good": [1.0, 5.0, 2.0, 6.0, 1.0, 2.0],
            "all_missing": [float("nan")] * 6,
            "constant": [0.0] * 6,
            "one_class": [1.0, None, 2.0, None, 3.0, 1.0],
            "infinite": [1.0, float("inf"), 2.0, 3.0, 1.0, 1.0],
            "rare": [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],  # one row in six: below a 20 % bin
            "cat_none": pd.Series([None] * 6, dtype=object),
        }
    )
    names = [c for c in train.columns if c != "label"]
    reasons = screen_candidates(train, names, ["cat_none"], {"good": "retired"}, min_share=0.2)
    assert reasons["good"] == "retired"  # known reasons kept
    assert "all missing" in reasons["all_missing"] and "all missing" in reasons["cat_none"]
    assert "constant" in reasons["constant"]
    assert "cannot be binned" in reasons["one_class"] and "label good (0)" in reasons["one_class"]
    assert "infinite" in reasons["infinite"]
    assert "too few for a second bin" in reasons["rare"]
    assert "rare" not in screen_candidates(train, ["rare"], [], min_share=0.1)
    assert "rare" in screen_candidates(train, ["rare"], [], min_share=0.1, min_events=1)


@pytest.fixture(scope="module")
def small_panel(clean_city, tmp_path_factory):
    """The session city's panel: 3 training month ends, 12 months apart from 1 validation."""
    import os

    from workbench.stages.ingest import run_ingest

    home = tmp_path_factory.mktemp("readiness-home")
    previous = os.environ["WORKBENCH_HOME"]
    os.environ["WORKBENCH_HOME"] = str(home)
    try:
        report = run_ingest(clean_city, None)
    finally:
        os.environ["WORKBENCH_HOME"] = previous
    definition = labels.load_label_definition()
    snapshots = [pd.Timestamp(s) for s in ("2024-06-30", "2024-07-31", "2024-08-31")]
    snapshots.append(pd.Timestamp("2025-08-31"))
    panel = build_panel(
        f"{report['out']}/tables", snapshots, load_catalog(), definition, report["snapshot"]
    )
    return panel, report


@pytest.mark.filterwarnings(FEW_EVENTS)
def test_training_leaves_out_what_it_cannot_use_and_says_why(small_panel):
    panel, _ = small_panel
    panel = panel.copy()
    panel["ar_not_on_time_ratio"] = float("nan")  # no annual report fell due yet
    result = train_family(
        panel,
        load_catalog(),
        validation_from="2025-08-31",
        reference=False,
        unavailable={"jud_dishonest": "table judicial (司法涉诉) absent"},
        retired=("county",),
    )
    excluded = result.params["excluded"]
    assert "all missing" in excluded["ar_not_on_time_ratio"]
    assert excluded["jud_dishonest"] == "table judicial (司法涉诉) absent"
    assert excluded["county"].startswith("retired")
    iv = result.iv_table.set_index("feature")
    for name, why in excluded.items():
        assert iv.loc[name, "decision"] == why
    assert not set(excluded) & set(result.model.features)
    with pytest.raises(ParameterError, match="retire names no_such_indicator"):
        train_family(
            panel, load_catalog(), validation_from="2025-08-31", retired=("no_such_indicator",)
        )


# ------------------------------------------------------------------------- the report


def test_readiness_of_an_ingest(small_panel):
    from workbench.workspace.folders import IngestFolder

    _, report = small_panel
    ready = readiness.assess_ingest(IngestFolder(report["out"]))
    assert ready.ready_to_train and ready.design is not None
    assert ready.history_start is not None and ready.history_table in ready.label_tables
    assert ready.labelled_snapshots[-1] <= pd.Timestamp(report["snapshot"]) - pd.DateOffset(
        months=HORIZON
    )
    assert set(ready.indicators["status"]) <= {"available", "partial", "unavailable"}
    assert ready.to_dict()["design"]["train"] == [str(s.date()) for s in ready.design.train]


def test_absent_tables_and_columns_make_indicators_unavailable(clean_city):
    from workbench.intake import load

    loaded = load.load_folder(clean_city, "2026-10-31")
    for table in ("judicial", "relations"):
        del loaded[table]
    loaded["enterprises"].absent_columns = ["registered_capital", "legal_rep_key"]
    ready = readiness.assess_loaded(loaded, "2026-10-31", str(clean_city))
    status = ready.indicators.set_index("id")
    assert (status.loc[["jud_dishonest", "rel_count"], "status"] == "unavailable").all()
    assert "table judicial" in status.loc["jud_dishonest", "reason"]
    assert "registered_capital" in status.loc["log_capital", "reason"]
    assert status.loc["rep_peers", "status"] == "unavailable"  # needs legal_rep_key
    assert status.loc["pen_12m", "status"] == "available"
    assert set(ready.unavailable()) == set(status.index[status["status"] == "unavailable"])
    assert any("judicial" in line and "optional" in line for line in ready.missing)


def test_without_any_label_table_training_is_not_possible(clean_city):
    from workbench.intake import load

    loaded = load.load_folder(clean_city, "2026-10-31")
    for table in contract.LABEL_TABLES:
        del loaded[table]
    ready = readiness.assess_loaded(loaded, "2026-10-31", str(clean_city))
    assert not ready.ready_to_train
    assert "at least one of the tables the label uses" in ready.design_problem


def test_a_stray_old_row_does_not_date_the_history():
    days = pd.date_range("2024-01-01", "2026-10-31", freq="D")
    frame = pd.DataFrame({"uscc": "x", "inspected_on": days, "result": "no_problem"})
    frame.loc[0, "inspected_on"] = pd.Timestamp("2009-05-01")  # one row years before
    profiles = readiness.profile_frames({"inspections": frame})
    assert profiles["inspections"].first == pd.Timestamp("2009-05-01")
    start, table = readiness.history_start(profiles, ("inspections",))
    assert table == "inspections" and start >= pd.Timestamp("2024-01-01")


# ------------------------------------------------------------------------- the CLI and contract


def test_check_on_an_export_that_can_train(clean_city, capsys):
    assert cli.main(["check", "--data", str(clean_city)]) == 0
    out = capsys.readouterr().out
    assert "training design:" in out and "workbench train" in out
    assert "enterprises" in out and "市场主体名录" in out


def test_check_counts_quarantined_rows_beside_the_rows_kept(city_copy, capsys):
    """A file that lost rows (here one stray quote) says so next to the rows it kept."""
    path = city_copy / "judicial.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = '"' + lines[3]
    path.write_text("".join(lines), encoding="utf-8")
    cli.main(["check", "--data", str(city_copy)])
    line = next(x for x in capsys.readouterr().out.splitlines() if "judicial" in x)
    assert f"{len(lines) - 2:,} rows (+1 quarantined)" in line, line


def test_check_on_a_short_export_says_how_much_more(tmp_path, capsys):
    from workbench.demo import synth
    from workbench.demo.synth.profile import CityProfile

    city = tmp_path / "city"
    synth.generate_city(
        city, entities=600, months=18, seed=3, profile=CityProfile(history_months=18)
    )
    assert cli.main(["check", "--data", str(city)]) == 3
    out = capsys.readouterr().out
    assert "not possible yet" in out and "more month" in out


def test_train_stops_with_the_readiness_message_on_a_short_history(tmp_path, monkeypatch):
    from workbench.demo import synth
    from workbench.demo.synth.profile import CityProfile
    from workbench.stages import train
    from workbench.stages.ingest import run_ingest
    from workbench.workspace.folders import IngestFolder

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    city = tmp_path / "city"
    synth.generate_city(
        city, entities=600, months=24, seed=3, profile=CityProfile(history_months=24)
    )
    report = run_ingest(city, None)
    with pytest.raises(NotReadyError, match=r"holds 2\d months.*more month.*workbench check"):
        train.resolve(train.Parameters(data=report["out"]))
    with pytest.raises(NotReadyError):
        train.default_design(IngestFolder(report["out"]), report["snapshot"])


def test_the_contract_says_which_tables_are_required():
    assert set(contract.NEEDED_FOR) == set(contract.TABLES)
    definition = labels.load_label_definition()
    assert set(contract.LABEL_TABLES) == {e.source for e in definition.events}
    text = contract.render_markdown()
    assert "## Required tables" in text
    for name in contract.TABLES:
        assert f"| `{name}` | {contract.TABLES[name].zh} | {contract.NEEDED_FOR[name]} |" in text


def test_check_names_the_files_it_did_not_read(city_copy, capsys):
    """A file named otherwise than a contract table is listed, not silently skipped."""
    (city_copy / "penalties.csv").rename(city_copy / "penalties_2022-2025.csv")
    cli.main(["check", "--data", str(city_copy)])
    out = capsys.readouterr().out
    assert "penalties          " in out and "行政处罚: absent" in out
    line = next(x for x in out.splitlines() if x.startswith("files not read"))
    assert line.endswith("penalties_2022-2025.csv")
