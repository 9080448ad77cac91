"""Indicators and labels on a hand-made world with hand-computed values, plus leakage tests."""

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from workbench.contract import uscc
from workbench.indicators import CatalogError, Engine, load_catalog
from workbench.indicators.catalog import Catalog, Indicator
from workbench.scoring import labels
from workbench.stages import ingest

S = "2025-06-30"  # the snapshot of the hand-made world
DATA_SNAPSHOT = "2026-07-31"
A, B, C, D, E = uscc.make_codes(
    np.array(["1", "2", "1", "1", "1"]), np.array(["410402"] * 5), np.arange(1, 6) * 1000
)


def _csv(folder, name, rows):
    pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    raw = tmp_path_factory.mktemp("world")
    _csv(
        raw,
        "enterprises",
        [
            dict(
                uscc=A,
                name="甲公司",
                entity_type="company",
                industry_code="H6210",
                region_code="410402",
                established_on="2020-01-15",
                status="active",
                registered_capital=100,
                legal_rep_key="P1",
            ),
            dict(
                uscc=B,
                name="乙店",
                entity_type="individual_business",
                industry_code="F5221",
                region_code="410402",
                established_on="2024-12-31",
                status="active",
                registered_capital="",
                legal_rep_key="P1",
            ),
            dict(
                uscc=C,
                name="丙公司",
                entity_type="company",
                industry_code="C1431",
                region_code="410403",
                established_on="2019-03-01",
                status="cancelled",
                status_changed_on="2025-09-01",
                legal_rep_key="P2",
            ),
            dict(
                uscc=D,
                name="丁公司",
                entity_type="company",
                industry_code="C1431",
                region_code="410403",
                established_on="2019-03-01",
                status="cancelled",
                status_changed_on="2025-03-01",
                legal_rep_key="P1",
            ),
            dict(
                uscc=E,
                name="戊公司",
                entity_type="company",
                industry_code="C1431",
                region_code="410403",
                established_on="2025-08-01",
                status="active",
            ),
        ],
    )
    _csv(
        raw,
        "penalties",
        [
            dict(
                uscc=A, case_id="p1", decided_on="2025-06-30", severity="serious", fine_amount=1000
            ),
            dict(uscc=A, case_id="p2", decided_on="2024-06-30", severity="minor", fine_amount=500),
            dict(
                uscc=A,
                case_id="p3",
                decided_on="2024-07-01",
                severity="grave",
                fine_amount=3000,
                repaired_on="2025-01-01",
            ),
            dict(
                uscc=A,
                case_id="p4",
                decided_on="2024-08-01",
                severity="minor",
                fine_amount=200,
                repaired_on="2025-08-01",
            ),
            dict(uscc=A, case_id="p5", decided_on="2025-07-01", severity="grave", fine_amount=9999),
            dict(uscc=B, case_id="p6", decided_on="2026-06-30", severity="serious"),
            dict(uscc=C, case_id="p7", decided_on="2025-08-15", severity="serious"),
        ],
    )
    _csv(
        raw,
        "abnormal_list",
        [
            dict(
                uscc=A,
                listed_on="2023-07-10",
                reason="annual_report_not_filed",
                removed_on="2025-07-15",
            ),
            dict(
                uscc=B,
                listed_on="2025-01-10",
                reason="address_unreachable",
                removed_on="2025-03-01",
            ),
        ],
    )
    _csv(
        raw,
        "annual_reports",
        [
            dict(uscc=A, report_year=2022, filed_on="2023-05-01"),
            dict(uscc=A, report_year=2023, filed_on=""),
            dict(uscc=A, report_year=2024, filed_on="2025-08-01"),
            dict(uscc=A, report_year=2025, filed_on=""),
        ],
    )
    _csv(
        raw,
        "inspections",
        [
            dict(uscc=A, inspected_on="2025-03-01", result="corrected"),
            dict(uscc=A, inspected_on="2024-01-01", result="no_problem"),
        ],
    )
    _csv(
        raw,
        "complaints",
        [
            dict(uscc=B, received_on="2025-06-01", substantiated="是"),
            dict(uscc=B, received_on="2025-07-01", substantiated="是"),
        ],
    )
    _csv(
        raw,
        "licenses",
        [
            dict(
                uscc=A,
                license_type="food_business",
                granted_on="2020-02-01",
                expires_on="2025-07-30",
            ),
            dict(
                uscc=A, license_type="drug_retail", granted_on="2021-01-01", revoked_on="2025-07-01"
            ),
            dict(
                uscc=A,
                license_type="special_equipment_use",
                granted_on="2019-01-01",
                expires_on="2024-01-01",
            ),
        ],
    )
    _csv(
        raw,
        "changes",
        [
            dict(uscc=A, changed_on="2025-01-01", item="legal_rep"),
            dict(uscc=A, changed_on="2022-07-01", item="address"),
        ],
    )
    _csv(raw, "judicial", [dict(uscc=C, filed_on="2025-01-01", role="defendant")])
    _csv(
        raw,
        "serious_violations",
        [
            dict(uscc=C, listed_on="2024-01-01", reason="grave_violation", removed_on="2025-01-01"),
        ],
    )
    _csv(
        raw,
        "relations",
        [
            dict(uscc=A, related_uscc=C, relation="shareholder"),
            dict(uscc=B, related_uscc=D, relation="investment"),
        ],
    )
    out = tmp_path_factory.mktemp("world-ingest")
    report = ingest.run_ingest(raw, DATA_SNAPSHOT, out)
    assert report["totals"]["quarantined"] == 0
    return out / "tables"


@pytest.fixture(scope="module")
def matrix(world):
    with Engine(world) as engine:
        frame = engine.compute(S, load_catalog(packs=["food"]))
    return frame.set_index("uscc")


def value(matrix, code, ind):
    return matrix.loc[code, ind]


def test_population_is_active_at_the_snapshot(matrix):
    # C was cancelled after S (active then), D before S, E was established after S.
    assert set(matrix.index) == {A, B, C}


def test_register_values(matrix):
    assert value(matrix, A, "age_months") == 65  # 2020-01-15 → 2025-06-30
    assert value(matrix, B, "age_months") == 5  # 2024-12-31 → 2025-06-30: day 30 < 31
    assert value(matrix, A, "log_capital") == pytest.approx(math.log(101))
    assert math.isnan(value(matrix, B, "log_capital"))
    assert value(matrix, B, "entity_type") == "individual_business"
    assert value(matrix, C, "industry_section") == "C"
    assert value(matrix, C, "county") == "410403"


def test_penalty_windows_repair_and_future(matrix):
    # p1 on the snapshot day counts; p2 exactly 12 months back is outside 12m, inside 36m;
    # p3 was repaired before S (stops counting); p4's repair is after S (still counts);
    # p5 is after S (invisible).
    assert value(matrix, A, "pen_12m") == 2  # p1, p4
    assert value(matrix, A, "pen_36m") == 3  # p1, p2, p4
    assert value(matrix, A, "pen_serious_12m") == 1  # p1 (p3 grave but repaired)
    assert value(matrix, A, "pen_grave_36m") == 0
    assert value(matrix, A, "pen_fine_sum_36m") == 1700  # 1000 + 500 + 200
    assert value(matrix, A, "pen_fine_max_36m") == 1000
    assert value(matrix, A, "pen_days_since") == 0
    assert value(matrix, A, "pen_repaired_36m") == 1  # p3
    assert value(matrix, B, "pen_36m") == 0 and math.isnan(value(matrix, B, "pen_days_since"))


def test_listings_current_as_of_the_snapshot(matrix):
    assert value(matrix, A, "abn_current") == 1  # removed only after S
    assert value(matrix, A, "abn_current_other") == 0  # listed for the annual report
    assert value(matrix, B, "abn_current") == 0  # removed before S
    assert value(matrix, B, "abn_unreachable_36m") == 1
    assert value(matrix, B, "abn_reasons") == 1
    assert value(matrix, C, "sv_current") == 0 and value(matrix, C, "sv_ever") == 1


def test_annual_reports_due_missing_late(matrix):
    # Due by S: 2022 (2023-06-30), 2023 (2024-06-30), 2024 (2025-06-30 = S); 2025 not yet.
    # 2023 never filed; 2024 filed after S, so missing at S.
    assert value(matrix, A, "ar_due_count") == 3
    assert value(matrix, A, "ar_missing_36m") == 2
    assert value(matrix, A, "ar_missing_latest") == 1  # only 2024 is due within 12m
    assert value(matrix, A, "ar_late_36m") == 0
    assert value(matrix, A, "ar_not_on_time_ratio") == pytest.approx(2 / 3)
    assert math.isnan(value(matrix, B, "ar_not_on_time_ratio"))  # nothing due yet


def test_inspections_complaints_changes_judicial(matrix):
    assert value(matrix, A, "insp_36m") == 2
    assert value(matrix, A, "insp_problem_36m") == 1
    assert value(matrix, A, "insp_problem_ratio") == 0.5
    assert value(matrix, A, "insp_days_since") == 121  # 2025-03-01 → 2025-06-30
    assert value(matrix, A, "insp_problem_days_since") == 121
    assert value(matrix, B, "cmp_12m") == 1 and value(matrix, B, "cmp_subst_12m") == 1
    assert value(matrix, A, "chg_legal_rep_12m") == 1
    assert value(matrix, A, "chg_address_12m") == 0 and value(matrix, A, "chg_address_36m") == 1
    assert value(matrix, A, "chg_days_since") == 180  # 2025-01-01 → 2025-06-30
    assert value(matrix, C, "jud_defendant_36m") == 1


def test_licences_as_of_the_snapshot(matrix):
    # food valid (expires 30 days after S), drug revoked only after S (valid), special
    # equipment expired before S.
    assert value(matrix, A, "lic_valid_count") == 2
    assert value(matrix, A, "lic_expired_count") == 1
    assert value(matrix, A, "lic_revoked_36m") == 0
    assert value(matrix, A, "food_lic_expiring_90d") == 1


def test_relations_and_legal_representative_peers(matrix):
    # A–C shareholder link (read both ways); B–D link ignored: D is not active at S.
    assert value(matrix, A, "rel_count") == 1 and value(matrix, C, "rel_count") == 1
    assert value(matrix, B, "rel_count") == 0
    assert value(matrix, A, "rel_listed_share") == 0.0  # C: sv removed, no abnormal
    assert value(matrix, C, "rel_listed_share") == 1.0  # A is on the abnormal list
    assert math.isnan(value(matrix, B, "rel_listed_share"))
    # P1 represents A and B (and D, gone before S)
    assert value(matrix, A, "rep_peers") == 1 and value(matrix, B, "rep_peers") == 1
    assert value(matrix, C, "rep_peers") == 0
    assert value(matrix, B, "rep_peers_listed_share") == 1.0  # A listed
    assert value(matrix, A, "rep_peers_listed_share") == 0.0  # B not listed at S
    assert value(matrix, A, "rep_peers_penalised_share") == 0.0
    assert value(matrix, B, "rep_peers_penalised_share") == 1.0  # A penalised within 36m


def test_a_restricted_catalog_gives_the_same_values_for_what_it_keeps(world, matrix):
    # grading computes only what the model and the rules read; a relation share brings
    # the indicators it is computed from, and every pack keeps its domain flag
    full = load_catalog(packs=["food"])
    kept = full.restricted(["rel_listed_share", "food_lic_valid", "not_in_catalog"])
    ids = [i.id for i in kept.all]
    assert ids == ["abn_current", "sv_current", "rel_listed_share", "food_lic_valid"]
    with Engine(world) as engine:
        part = engine.compute(S, kept).set_index("uscc")
    assert list(part.columns) == ["snapshot", "in_food", *ids]
    pd.testing.assert_frame_equal(part, matrix[part.columns])


def test_pack_domain(matrix):
    # A (restaurant, food licence) and B (food retail F5221) are food; C (C1431) too.
    assert matrix.loc[[A, B, C], "in_food"].tolist() == [True, True, True]
    assert value(matrix, A, "food_lic_valid") == 1
    assert value(matrix, B, "food_lic_valid") == 0


def test_labels_window_and_exits(world):
    definition = labels.load_label_definition()
    with Engine(world) as engine:
        frame = labels.compute_labels(engine, S, definition, DATA_SNAPSHOT).set_index("uscc")
    # A: p5 (grave) on 2025-07-01 is inside (S, S+12m] → bad
    assert frame.loc[A, "label"] == 1 and frame.loc[A, "label_status"] == "bad"
    assert str(frame.loc[A, "first_bad_on"].date()) == "2025-07-01"
    # B: p6 on 2026-06-30 = S + 12 months, the last day of the window → bad
    assert frame.loc[B, "label"] == 1
    # C: p7 before its cancellation on 2025-09-01 → bad, not excluded
    assert frame.loc[C, "label_status"] == "bad"
    with Engine(world) as engine:
        with pytest.raises(ValueError, match="needs events up to 2026-08-31"):
            labels.compute_labels(engine, "2025-08-31", definition, DATA_SNAPSHOT)


def test_exit_without_bad_event_is_excluded_not_good(world, tmp_path):
    tables = tmp_path / "tables"
    shutil.copytree(world, tables)
    penalties = pd.read_parquet(tables / "penalties.parquet")
    penalties[penalties["case_id"] != "p7"].to_parquet(tables / "penalties.parquet")
    with Engine(tables) as engine:
        frame = labels.compute_labels(engine, S, labels.load_label_definition(), DATA_SNAPSHOT)
    row = frame.set_index("uscc").loc[C]
    assert row["label_status"] == "exited" and pd.isna(row["label"])


# ------------------------------------------------------------------------------ leakage


def _shift_after(tables_src, tables_dst, snapshot, rng):
    """Copy tables, adding events dated after ``snapshot`` and later removals/repairs."""
    shutil.copytree(tables_src, tables_dst)
    s = pd.Timestamp(snapshot)
    dates = {
        "penalties": "decided_on",
        "abnormal_list": "listed_on",
        "serious_violations": "listed_on",
        "inspections": "inspected_on",
        "complaints": "received_on",
        "licenses": "granted_on",
        "changes": "changed_on",
        "judicial": "filed_on",
    }
    for name, column in dates.items():
        path = tables_dst / f"{name}.parquet"
        frame = pd.read_parquet(path)
        if frame.empty:
            continue
        extra = frame.sample(n=min(len(frame), 200), replace=True, random_state=1).copy()
        later = s + pd.to_timedelta(rng.integers(1, 400, len(extra)), unit="D")
        extra[column] = later.astype(frame[column].dtype)
        if "case_id" in extra:
            extra["case_id"] = extra["case_id"] + "-later"
        for later_col in ("removed_on", "repaired_on", "revoked_on"):
            if later_col in frame:
                empty = frame[later_col].isna()
                frame.loc[empty, later_col] = (s + pd.Timedelta(days=3)).to_datetime64()
        pd.concat([frame, extra], ignore_index=True).to_parquet(path, index=False)
    reports = pd.read_parquet(tables_dst / "annual_reports.parquet")
    reports.loc[reports["filed_on"].isna(), "filed_on"] = (s + pd.Timedelta(days=1)).to_datetime64()
    reports.to_parquet(tables_dst / "annual_reports.parquet", index=False)


def test_events_after_the_snapshot_change_no_indicator(clean_city, tmp_path):
    out = tmp_path / "ingest"
    ingest.run_ingest(clean_city, "2026-10-31", out)
    snapshot = "2025-10-31"
    catalog = load_catalog(packs=["food", "drugs", "special_equipment"])
    with Engine(out / "tables") as engine:
        before = engine.compute(snapshot, catalog)
    _shift_after(out / "tables", tmp_path / "later", snapshot, np.random.default_rng(3))
    with Engine(tmp_path / "later") as engine:
        after = engine.compute(snapshot, catalog)
        changed_later = engine.compute("2026-10-31", catalog)
    pd.testing.assert_frame_equal(before, after)
    # and the additions are real: at a later snapshot they do change indicators
    with Engine(out / "tables") as engine:
        original_later = engine.compute("2026-10-31", catalog)
    assert not original_later.equals(changed_later)


def test_events_after_the_label_window_change_no_label(clean_city, tmp_path):
    out = tmp_path / "ingest"
    ingest.run_ingest(clean_city, "2026-10-31", out)
    definition = labels.load_label_definition()
    snapshot = "2024-10-31"  # window (2024-10-31, 2025-10-31]
    with Engine(out / "tables") as engine:
        before = labels.compute_labels(engine, snapshot, definition, "2026-10-31")
    cut = pd.Timestamp("2025-10-31")
    trimmed = tmp_path / "trimmed"
    shutil.copytree(out / "tables", trimmed)
    for name, column in {
        "penalties": "decided_on",
        "abnormal_list": "listed_on",
        "serious_violations": "listed_on",
        "inspections": "inspected_on",
    }.items():
        frame = pd.read_parquet(trimmed / f"{name}.parquet")
        frame[frame[column] <= cut].to_parquet(trimmed / f"{name}.parquet", index=False)
    with Engine(trimmed) as engine:
        after = labels.compute_labels(engine, snapshot, definition, "2026-10-31")
    pd.testing.assert_frame_equal(before, after)
    assert before["label"].sum() > 0


# ----------------------------------------------------------------------- catalog errors


def _write_catalog(tmp_path, **fields):
    entry = dict(
        id="x_count",
        name="测试",
        dimension="监管信息",
        source="penalties",
        aggregation="count",
        direction="increasing",
        description="d",
    )
    entry.update(fields)
    path = tmp_path / "cat.yaml"
    import yaml

    path.write_text(yaml.safe_dump({"indicators": [entry]}, allow_unicode=True), "utf-8")
    return path


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "fines"}, "indicator x_count: field 'source' is 'fines'; allowed: enterprises"),
        ({"aggregation": "median"}, "field 'aggregation' is 'median'; allowed: value, count"),
        ({"aggregation": "sum", "column": "amount"}, "field 'column' is 'amount'; allowed: uscc"),
        ({"aggregation": "sum"}, "aggregation 'sum' needs field 'column'"),
        ({"filter": {"grade": "A"}}, "field 'filter': field 'column' is 'grade'"),
        ({"filter": {"severity": "huge"}}, "severity value(s) ['huge'] not in code list"),
        ({"window": "12"}, "field 'window' is '12'"),
        ({"dimension": "财务"}, "field 'dimension' is '财务'"),
        ({"colour": "red"}, "unknown field(s) ['colour']"),
        ({"aggregation": "related_share"}, "needs field 'of'"),
        ({"aggregation": "related_share", "of": ["nope"]}, "names 'nope', which is not"),
    ],
)
def test_catalog_errors_name_indicator_and_field(tmp_path, fields, message):
    with pytest.raises(CatalogError) as err:
        load_catalog(_write_catalog(tmp_path, **fields))
    assert message in str(err.value)
    assert "cat.yaml" in str(err.value)


def test_packaged_catalog_size_and_dimensions():
    catalog = load_catalog(packs=["food", "drugs", "special_equipment"])
    generic = catalog.indicators
    assert len(generic) >= 40
    assert {i.dimension for i in generic} == {
        "基础属性",
        "动态信息",
        "监管信息",
        "关联关系",
        "社会评价",
    }
    for pack in catalog.packs:
        assert len(pack.indicators) >= 5, pack.id
    assert len(catalog.fingerprint()) == 64
    assert (
        catalog.fingerprint()
        == load_catalog(packs=["food", "drugs", "special_equipment"]).fingerprint()
    )
    assert catalog.fingerprint() != load_catalog().fingerprint()


def test_an_analyst_adds_an_indicator_in_yaml_only(world, tmp_path):
    """The README's example: a new indicator is a YAML entry, nothing else."""
    path = _write_catalog(
        tmp_path, id="pen_minor_all", name="历史一般处罚次数", filter={"severity": "minor"}
    )
    catalog = load_catalog(path)
    assert [i.id for i in catalog.all] == ["pen_minor_all"]
    with Engine(world) as engine:
        frame = engine.compute(S, catalog).set_index("uscc")
    assert frame.loc[A, "pen_minor_all"] == 2  # p2, p4 (p3 is grave)


def _compute_one(tables, **fields) -> pd.DataFrame:
    """Compute a one-indicator catalog as of S (fields beyond the required ones given)."""
    base = dict(name="测试", dimension="监管信息", direction="increasing", description="d")
    catalog = Catalog((Indicator(**{**base, **fields}),))
    with Engine(tables) as engine:
        return engine.compute(S, catalog).set_index("uscc")


def test_applies_to_leaves_others_missing(world):
    frame = _compute_one(
        world,
        id="cap",
        source="enterprises",
        aggregation="value",
        column="log_capital",
        direction="decreasing",
        applies_to=("company",),
    )
    assert frame.loc[A, "cap"] == pytest.approx(math.log(101))
    assert math.isnan(frame.loc[B, "cap"])


def test_readme_catalog_example(world, tmp_path):
    """The README's example catalog, taken from the README itself, extends the generic one."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(extends: generic.*?)```", readme, re.S).group(1)
    path = tmp_path / "my_catalog.yaml"
    path.write_text(block, encoding="utf-8")
    catalog = load_catalog(path)
    generic = load_catalog()
    ids = [i.id for i in catalog.all]
    assert "county" not in ids and ids[-1] == "pen_price_36m"
    assert len(ids) == len(generic.all)  # one retired, one added
    with Engine(world) as engine:
        frame = engine.compute(S, catalog).set_index("uscc")
    assert frame.loc[A, "pen_price_36m"] == 0


def test_changing_an_indicator_replaces_it_in_place(tmp_path):
    import yaml

    path = tmp_path / "cat.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "extends": "generic",
                "indicators": [
                    dict(
                        id="pen_12m",
                        name="近12个月行政处罚次数（含已修复）",
                        dimension="监管信息",
                        source="penalties",
                        window="12m",
                        aggregation="count",
                        count_repaired=True,
                        direction="increasing",
                        description="含已信用修复的处罚。",
                    )
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    generic_ids = [i.id for i in load_catalog().all]
    assert [i.id for i in catalog.all] == generic_ids
    assert catalog.get("pen_12m").count_repaired is True
    path.write_text("extends: generic\nretire: [nope]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="retire names 'nope'"):
        load_catalog(path)


def test_mean_aggregation_by_hand(world):
    frame = _compute_one(
        world,
        id="fine_mean",
        source="penalties",
        aggregation="mean",
        column="fine_amount",
        window="36m",
    )
    assert frame.loc[A, "fine_mean"] == pytest.approx((1000 + 500 + 200) / 3)  # p3 repaired
    assert math.isnan(frame.loc[B, "fine_mean"])  # no penalty: missing, not 0
