"""The synthetic city: contract conformance, determinism, messy = clean, truth drives events."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from workbench import contract
from workbench.contract import uscc
from workbench.demo.synth import CitySummary, generate_city

N, MONTHS, SEED, END = 2500, 24, 11, "2026-06-30"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def cities(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("synth")
    out = {}
    for key, seed, messy in (
        ("clean", SEED, False),
        ("clean2", SEED, False),
        ("messy", SEED, True),
        ("messy2", SEED, True),
        ("other", SEED + 1, False),
    ):
        summary = generate_city(
            base / key, entities=N, months=MONTHS, seed=seed, end=END, messy=messy
        )
        assert isinstance(summary, CitySummary)
        out[key] = base / key
    return out


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def clean(cities) -> dict[str, pd.DataFrame]:
    return {t: _read(cities["clean"], t) for t in contract.TABLES}


# ------------------------------------------------------------------------------ determinism


def test_same_seed_same_bytes(cities):
    a, b = _hashes(cities["clean"]), _hashes(cities["clean2"])
    # 13 tables + 3 truth parquet files + README + generator.json + the (here empty) list of
    # injected errors
    assert len(a) == len(contract.TABLES) + 6
    assert a == b
    assert _hashes(cities["messy"]) == _hashes(cities["messy2"])
    assert any(k.endswith(".xlsx") for k in _hashes(cities["messy"]))


def test_different_seed_different_content(cities):
    a, b = _hashes(cities["clean"]), _hashes(cities["other"])
    differing = [k for k in a if a[k] != b.get(k)]
    assert len(differing) >= len(a) - 1  # the inspectors' register may coincide, nothing else


def test_truth_identical_for_messy_and_clean(cities):
    a = {k: v for k, v in _hashes(cities["clean"]).items() if k.startswith("_truth")}
    b = {k: v for k, v in _hashes(cities["messy"]).items() if k.startswith("_truth")}
    a.pop("_truth/README.md"), b.pop("_truth/README.md")  # says messy=True/False
    assert a == b


# ------------------------------------------------------------------------------ contract


def test_columns_follow_the_contract(clean):
    for name, spec in contract.TABLES.items():
        cols = list(clean[name].columns)
        names = [c.name for c in spec.columns]
        assert cols == [c for c in names if c in cols], name  # contract names, contract order
        assert {c.name for c in spec.required} <= set(cols), name
    assert len(clean["enterprises"]) == N


def test_codes_valid_and_attributed(clean):
    reg = clean["enterprises"]["uscc"]
    assert uscc.validate_codes(reg).check_ok.all()
    assert reg.is_unique
    assert (reg.str[2:8] == clean["enterprises"]["region_code"]).all()
    cat = clean["enterprises"]["entity_type"].map(contract.USCC_CATEGORY)
    assert (reg.str[1] == cat).all()
    registered = set(reg)
    for name in contract.EVENT_TABLES:
        codes = clean[name]["uscc"]
        assert uscc.validate_codes(codes).check_ok.all(), name
        assert set(codes) <= registered, name
    assert uscc.validate_codes(clean["relations"]["related_uscc"]).check_ok.all()
    assert set(clean["conflicts"]["inspector_id"]) <= set(clean["inspectors"]["inspector_id"])


def test_code_values_are_canonical(clean):
    for name, spec in contract.TABLES.items():
        for col in spec.columns:
            if col.kind == "code" and col.name in clean[name]:
                values = set(clean[name][col.name]) - {""}
                assert values <= set(contract.CODE_LISTS[col.codes].labels), (name, col.name)
            if col.kind == "bool" and col.name in clean[name]:
                assert set(clean[name][col.name]) <= {"true", "false", ""}, (name, col.name)
    industry = clean["enterprises"]["industry_code"]
    assert industry.str.fullmatch(r"[A-T]\d{4}").all()
    assert (
        industry.str[1:3].astype(int).map(contract.section_of_division) == industry.str[0]
    ).all()


def test_dates_on_or_before_end(clean):
    end = pd.Timestamp(END)
    for name, spec in contract.TABLES.items():
        for col in spec.columns:
            if col.kind != "date" or col.name not in clean[name]:
                continue
            text = clean[name][col.name]
            text = text[text != ""]
            assert text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), (name, col.name)
            if not col.future_ok:
                assert (pd.to_datetime(text) <= end).all(), (name, col.name)
    lic = clean["licenses"]
    assert (
        pd.to_datetime(lic.loc[lic.expires_on != "", "expires_on"]) > end
    ).any()  # some still valid


def test_events_inside_each_enterprise_life(clean):
    ent = clean["enterprises"].set_index("uscc")
    est = pd.to_datetime(ent["established_on"])
    gone = pd.to_datetime(ent["status_changed_on"].replace("", None))
    for name, col in (
        ("penalties", "decided_on"),
        ("complaints", "received_on"),
        ("judicial", "filed_on"),
        ("changes", "changed_on"),
        ("abnormal_list", "listed_on"),
    ):
        df = clean[name]
        day = pd.to_datetime(df[col]).to_numpy()
        assert (day > est.reindex(df["uscc"]).to_numpy()).all(), name
        exit_ = gone.reindex(df["uscc"]).to_numpy()
        ok = pd.isna(exit_) | (day < exit_)
        assert ok.all(), name
    ins = clean["inspections"]
    after_exit = (
        pd.to_datetime(ins["inspected_on"]).to_numpy() >= gone.reindex(ins["uscc"]).to_numpy()
    )
    assert set(ins.loc[after_exit, "result"]) <= {"deregistered"}
    assert (ent["status"] != "active").sum() == (ent["status_changed_on"] != "").sum()


def test_register_realism(clean):
    ent = clean["enterprises"]
    share = ent["entity_type"].value_counts(normalize=True)
    assert share["individual_business"] > 0.5
    assert share.idxmax() == "individual_business"
    assert ent["region_code"].nunique() == 10
    assert set(ent["status"]) >= {"active", "cancelled", "revoked"}
    assert 0.5 < (ent["status"] == "active").mean() < 0.9
    assert (
        ent["name"].str.contains("有限公司").any()
        and ent["name"].str.contains("平顶山").mean() > 0.3
    )
    ind = ent[ent["entity_type"] == "individual_business"]
    assert ind["industry_code"].str[0].isin(list("FHO")).mean() > 0.6
    assert clean["penalties"]["case_id"].is_unique
    assert clean["penalties"]["case_id"].str.fullmatch(r".市监罚〔\d{4}〕\d{4,}号").all()
    assert set(clean["penalties"]["severity"]) == {"minor", "serious", "grave"}
    rep = clean["penalties"]
    rep = rep[rep.repaired_on != ""]
    assert (
        len(rep)
        and ((pd.to_datetime(rep.repaired_on) - pd.to_datetime(rep.decided_on)).dt.days >= 90).all()
    )
    shared = ent["legal_rep_key"].duplicated(keep=False)
    assert 0.05 < shared.mean() < 0.3
    assert (clean["relations"]["relation"] == "same_legal_rep").sum() > 0
    ins = clean["inspectors"]
    assert len(ins) == max(20, round(N / 400))
    assert ins["items"].str.contains(";").all()
    found = clean["inspections"]["result"].map(contract.RESULT_FOUND_PROBLEM)
    given = clean["inspections"]["found_problem"].map({"true": True, "false": False, "": None})
    assert (found.astype(object).fillna("na") == given.astype(object).fillna("na")).all()


# ------------------------------------------------------------------------------ the truth


def test_truth_probabilities(cities, clean):
    mr = pd.read_parquet(cities["clean"] / "_truth" / "monthly_risk.parquet")
    assert list(mr.columns)[:3] == ["uscc", "month", "p_violation"]
    assert str(mr["p_violation"].dtype) == "float32"
    assert ((mr.p_violation > 0) & (mr.p_violation < 1)).all()
    assert pd.to_datetime(mr["month"]).nunique() == MONTHS
    assert 0.004 < mr.p_violation.mean() < 0.03
    assert set(mr["uscc"]) <= set(clean["enterprises"]["uscc"])
    last = mr[pd.to_datetime(mr.month) == pd.to_datetime(mr.month).max()]
    assert 0.003 < (last.p_violation > 0.1).mean() < 0.08  # a long right tail
    ent = pd.read_parquet(cities["clean"] / "_truth" / "entities.parquet")
    assert len(ent) == N and {"frailty", "cluster_id", "base_logit"} <= set(ent.columns)
    assert (
        (cities["clean"] / "_truth" / "README.md")
        .read_text(encoding="utf-8")
        .startswith("# The hidden truth")
    )


def test_violations_drive_events(cities, clean):
    v = pd.read_parquet(cities["clean"] / "_truth" / "violations.parquet")
    mr = pd.read_parquet(cities["clean"] / "_truth" / "monthly_risk.parquet")
    window_start = pd.to_datetime(mr["month"]).min() - pd.offsets.MonthBegin(1)
    alive = set(mr["uscc"])
    violators = set(v.loc[pd.to_datetime(v["month"]) >= window_start, "uscc"])
    clean_ones = alive - violators
    pen = clean["penalties"]
    pen = pen[pd.to_datetime(pen["decided_on"]) >= window_start]
    penalised = set(pen["uscc"])
    rate_v = len(penalised & violators) / len(violators)
    rate_c = len(penalised & clean_ones) / len(clean_ones)
    assert rate_v > 0.1 and rate_v > 10 * max(rate_c, 1e-3)
    ins = clean["inspections"]
    ins = ins[(pd.to_datetime(ins["inspected_on"]) >= window_start) & (ins["found_problem"] != "")]
    hit_v = (ins.loc[ins.uscc.isin(violators), "found_problem"] == "true").mean()
    hit_c = (ins.loc[ins.uscc.isin(clean_ones), "found_problem"] == "true").mean()
    assert hit_v > 2 * hit_c
    # every detected violation with a case id names a real penalty of that enterprise
    cases = v.dropna(subset=["case_id"])
    assert len(cases)
    merged = cases.merge(clean["penalties"], on="case_id", suffixes=("", "_p"))
    assert len(merged) == len(cases) and (merged["uscc"] == merged["uscc_p"]).all()
    # complaints: substantiated far more often for enterprises that were non-compliant
    comp = clean["complaints"]
    nc = mr[mr.non_compliant][["uscc", "month"]].assign(nc=True)
    comp = comp.assign(month=(pd.to_datetime(comp.received_on) + pd.offsets.MonthEnd(0)))
    nc["month"] = pd.to_datetime(nc["month"])
    j = comp.merge(nc, on=["uscc", "month"], how="left")
    j = j[j.month >= window_start]
    subst_nc = (j.loc[j.nc.fillna(False).astype(bool), "substantiated"] == "true").mean()
    subst_ok = (j.loc[~j.nc.fillna(False).astype(bool), "substantiated"] == "true").mean()
    assert subst_nc > 2 * subst_ok


# ------------------------------------------------------------------------------ messy = clean


def _canonical_from_messy(folder: Path, name: str) -> pd.DataFrame:
    spec = contract.TABLES[name]
    files = {p.suffix: p for p in folder.glob(f"{name}.*")}
    assert len(files) == 1, files
    ((suffix, path),) = files.items()
    if suffix == ".parquet":
        df = pd.read_parquet(path)
        for col in spec.columns:
            if col.name in df and col.kind == "date":
                df[col.name] = pd.to_datetime(df[col.name]).dt.strftime("%Y-%m-%d")
        return df.astype(object).where(df.notna(), "").astype(str)
    if suffix == ".xlsx":
        df = pd.read_excel(path, dtype=str).fillna("")
    else:
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gbk", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        import io

        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    header = {contract.normalise_label(h): col.name for col in spec.columns for h in col.headers}
    df.columns = [header[contract.normalise_label(c)] for c in df.columns]
    for col in spec.columns:
        if col.name not in df:
            continue
        s = df[col.name]
        if col.kind == "uscc":
            s = s.map(lambda x: "".join(unicodedata.normalize("NFKC", x).split()).upper())
        elif col.kind == "date":
            s = s.map(
                lambda x: x if not x else pd.Timestamp(x.replace("/", "-")).strftime("%Y-%m-%d")
            )
        elif col.kind == "code":
            lookup = contract.CODE_LISTS[col.codes].lookup()
            s = s.map(lambda x, lk=lookup: lk[contract.normalise_label(x)] if x else "")
        elif col.kind == "bool":
            s = s.map(
                {
                    "是": "true",
                    "否": "false",
                    "": "",
                    "true": "true",
                    "false": "false",
                    "True": "true",
                    "False": "false",
                }
            )
        elif col.kind in ("amount", "year"):
            s = s.map(lambda x: "" if x == "" else repr(float(x)))
        df[col.name] = s
    return df


def test_messy_has_the_same_content(cities, clean):
    messy = cities["messy"]
    assert (messy / "inspectors.xlsx").exists() and (messy / "licenses.parquet").exists()
    raw = (messy / "penalties.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").startswith("统一社会信用代码,")
    assert (messy / "complaints.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    for name, spec in contract.TABLES.items():
        got = _canonical_from_messy(messy, name)
        want = clean[name].copy()
        for col in spec.columns:
            if col.kind in ("amount", "year") and col.name in want:
                want[col.name] = want[col.name].map(lambda x: "" if x == "" else repr(float(x)))
        assert list(got.columns) == list(want.columns), name
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True).astype(str), want.astype(str), check_dtype=False, obj=name
        )
    # some event codes really are untidy in the messy export
    pen = pd.read_csv(messy / "penalties.csv", encoding="gbk", dtype=str)
    codes = pen["统一社会信用代码"]
    untidy = (codes != codes.str.strip().str.upper()) | ~codes.map(str.isascii)
    assert untidy.any()
    assert uscc.validate_codes(codes).check_ok.all()  # normalisation makes every one valid


def test_messy_loads_like_clean_with_the_project_loader(cities):
    load = pytest.importorskip("workbench.intake.load")
    a = load.load_folder(cities["clean"], END)
    b = load.load_folder(cities["messy"], END)
    assert set(a) == set(b) == set(contract.TABLES)
    for name in contract.TABLES:
        assert a[name].quarantine.empty and b[name].quarantine.empty, name
        fa = a[name].accepted.reset_index(drop=True)
        fb = b[name].accepted.reset_index(drop=True)[list(fa.columns)]
        pd.testing.assert_frame_equal(fa.astype(str), fb.astype(str), obj=name)


# ------------------------------------------------------------------------------ writing


def test_failed_run_leaves_existing_folder_intact(tmp_path, monkeypatch):
    out = tmp_path / "city"
    generate_city(out, entities=300, months=12, seed=3, end=END)
    before = _hashes(out)
    import workbench.demo.synth as synth

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(synth, "write_parquet", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_city(out, entities=300, months=12, seed=4, end=END)
    assert _hashes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city"]  # no temporary folder left behind


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="window starts"):
        generate_city(tmp_path / "x", entities=200, months=200, end=END)
    with pytest.raises(ValueError):
        generate_city(tmp_path / "x", entities=10)
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------------------ ceiling


def test_generator_parameters_are_recorded(cities):
    from workbench.demo.synth.ceiling import generator_params

    truth = cities["messy"] / "_truth"
    expected = {"entities": N, "months": MONTHS, "seed": SEED, "end": END}
    assert generator_params(truth) == expected
    # a city from before generator.json: the README's generate_city call is read instead
    old = cities["messy"].parent / "old_truth"
    old.mkdir()
    (old / "README.md").write_text((truth / "README.md").read_text(encoding="utf-8"))
    assert generator_params(old) == expected
    (old / "README.md").write_text("# no call here\n")
    with pytest.raises(FileNotFoundError, match="generator.json"):
        generator_params(old)


def test_fork_keeps_the_past_and_redraws_the_future():
    import numpy as np

    from workbench.demo.synth.register import build_register
    from workbench.demo.synth.timeline import Timeline
    from workbench.demo.synth.world import advance, fork_state, initial_state, simulate, to_world

    tl = Timeline.build(END, MONTHS)
    reg = build_register(1500, SEED, tl)
    state = initial_state(reg, tl, SEED)
    advance(state, tl.n - 6)
    futures = []
    for key in ((1, 0), (1, 0), (1, 1)):
        fork = fork_state(state, key)
        advance(fork, tl.n)
        futures.append(fork["sink"].arrays()["viol"])
        assert fork["month"] == tl.n
    same = all(np.array_equal(futures[0][c], futures[1][c]) for c in futures[0])
    assert same, "the same key must give the same future"
    assert not np.array_equal(futures[0]["ent"], futures[2]["ent"]), "another key, same future"
    assert futures[0]["month"].min() >= tl.n - 6, "a fork's sink holds only its own months"
    # forking leaves the original untouched: continuing it gives the unforked city
    advance(state, tl.n)
    whole = simulate(reg, tl, SEED)
    mine = to_world(state)
    for table, cols in whole.events.items():
        for col, values in cols.items():
            assert np.array_equal(values, mine.events[table][col]), (table, col)
    assert np.array_equal(whole.risk, mine.risk, equal_nan=True)


def test_ceiling_applies_the_label_definition_as_the_pipeline(clean_city, tmp_path):
    """Labels of the simulated history = compute_labels on the ingested files, row by row."""
    from workbench.demo import synth
    from workbench.demo.synth.ceiling import actual_labels
    from workbench.indicators import Engine
    from workbench.scoring import labels
    from workbench.stages import ingest

    ingest.run_ingest(clean_city, synth.DEFAULT_END, tmp_path / "ingest")
    definition = labels.load_label_definition()
    for snapshot in ("2025-03-31", "2025-10-31"):
        with Engine(tmp_path / "ingest" / "tables") as engine:
            observed = labels.compute_labels(engine, snapshot, definition, synth.DEFAULT_END)
        simulated = actual_labels(clean_city / "_truth", snapshot, definition)
        both = observed.merge(simulated, on="uscc", how="outer", suffixes=("", "_sim"))
        assert len(both) == len(observed) == len(simulated)
        assert both["label"].sum() > 10
        pd.testing.assert_series_equal(
            both["label"].astype(float), both["label_sim"], check_names=False
        )


def test_label_probabilities_are_calibrated_and_checked(clean_city):
    from workbench.demo.synth.ceiling import actual_labels, label_probabilities
    from workbench.scoring import labels

    truth = clean_city / "_truth"
    probs = label_probabilities(truth, ["2025-10-31"], replicates=8)
    actual = actual_labels(truth, "2025-10-31").dropna()
    assert set(actual["uscc"]) <= set(probs["uscc"])
    assert probs["p_state"].between(0, 1).all() and (probs["labelled"] <= 8).all()
    # the probabilities average to about the observed bad rate (a 1,900-enterprise city)
    assert abs(probs["p_state"].mean() - actual["label"].mean()) < 0.5 * actual["label"].mean()
    with pytest.raises(ValueError, match="month ends only"):
        label_probabilities(truth, ["2025-10-15"], replicates=2)
    with pytest.raises(ValueError, match="after the simulated months"):
        label_probabilities(truth, ["2026-01-31"], replicates=2)
    with pytest.raises(ValueError, match="replicates"):
        label_probabilities(truth, ["2025-10-31"], replicates=1)
    horizon_6 = labels.LabelDefinition(6, labels.load_label_definition().events, {})
    assert len(label_probabilities(truth, ["2026-01-31"], horizon_6, replicates=2))


def test_ceiling_refuses_a_city_from_another_generator(cities, tmp_path):
    import json
    import shutil

    from workbench.demo.synth.ceiling import label_probabilities

    truth = tmp_path / "_truth"
    shutil.copytree(cities["clean"] / "_truth", truth)
    params = json.loads((truth / "generator.json").read_text(encoding="utf-8"))
    (truth / "generator.json").write_text(json.dumps({**params, "seed": SEED + 5}))
    with pytest.raises(ValueError, match="differs from entities.parquet"):
        label_probabilities(truth, ["2025-06-30"], replicates=2)
