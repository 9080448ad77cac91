"""Benchmark: this scorecard against scorecardpy's and toad's documented flows.

Same panel, same embargoed out-of-time split, same candidate indicators (the generic
catalog), one process, one run. For every flow: validation AUC and KS, the fit time (from
the candidate indicators to a fitted scorecard, selection included) and the time to score
1,000,000 rows (the validation rows repeated), each also as a ratio to this workbench's
scorecard. A LightGBM model with the training stage's reference settings runs as well.

The flows are the libraries' documented ones (their READMEs), with their defaults:

- **workbench**: ``fit_scorecard`` (optbinning binning with monotonic trends from the
  catalog, selection judged out of fold — see ``workbench.scoring.scorecard`` —, logistic
  regression, integer points), ``score``;
- **scorecardpy** 0.1.9.7: ``var_filter`` → ``woebin`` → ``woebin_ply`` →
  ``LogisticRegression(penalty="l1", C=0.9, solver="saga")`` → ``scorecard`` →
  ``scorecard_ply``;
- **toad** 0.1.7: ``selection.select(empty=0.5, iv=0.02, corr=0.7)`` → ``Combiner``
  (chi-merge, ``min_samples=0.05``) → ``WOETransformer`` → ``selection.stepwise``
  (OLS, AIC, both directions) → ``ScoreCard(C=0.1)`` → ``predict``.

Both libraries predate pandas 3 and fail on it as installed; the shims below are the
smallest changes that let the documented flow run, each named where it is applied
(see ``SCORECARDPY_SHIMS`` and ``_toad_frame``). They change no numbers, only how a
column is assigned or labelled.

Needs ``pip install -e '.[bench]'`` (scorecardpy, toad) and an ingested city
(``./run demo``); builds the train stage's default panel unless ``--panel`` is given::

    .venv/bin/python bench/bench_scorecard_libs.py [--panel PANEL.parquet] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import importlib
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from workbench.indicators import load_catalog
from workbench.scoring.scorecard import fit_scorecard
from workbench.scoring.train import (
    LGBM_REFERENCE,
    TREND,
    default_validation_from,
    ks_statistic,
    lightgbm_frames,
    split_with_embargo,
)

#: scorecardpy 0.1.9.7 on pandas 3: ``df.loc[:, col] = categorical`` into an existing
#: categorical column raises "Cannot set a Categorical with another" — plain column
#: assignment does the same thing. (Its ``errors="ignore"`` in ``pd.to_numeric`` and the
#: blank-string scan that calls ``len()`` on a missing value are avoided through the
#: documented switches ``ignore_datetime_cols=False`` and ``replace_blank=False``.)
SCORECARDPY_SHIMS = {
    "scorecardpy.woebin": [("dtm.loc[:,'bin'] = pd.cut(", "dtm['bin'] = pd.cut(")],
    "scorecardpy.scorecard": [("dat_score.loc[:,'score'] =", "dat_score['score'] =")],
}


def _patched(module_name: str, replacements: list[tuple[str, str]]):
    """The module re-executed from its source with ``replacements`` (local to this run)."""
    module = importlib.import_module(module_name)
    source = Path(module.__file__).read_text(encoding="utf-8")
    for old, new in replacements:
        if old not in source:
            raise RuntimeError(f"{module_name}: shim target {old!r} not found (version?)")
        source = source.replace(old, new)
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _repeat(rows: pd.DataFrame, n: int) -> pd.DataFrame:
    return rows.iloc[np.arange(n) % len(rows)].reset_index(drop=True)


def flow_workbench(train, valid, names, categorical, monotonic, n_rows):
    """This workbench's training core and scoring."""
    fitted, fit_s = _timed(
        lambda: fit_scorecard(
            train[names],
            train["label"].astype(int),
            categorical=categorical,
            monotonic=monotonic,
        )
    )
    risk = -fitted.score(valid)  # higher points = lower risk
    big = _repeat(valid[fitted.features], n_rows)
    _, score_s = _timed(lambda: fitted.score(big))
    return risk, fit_s, score_s, len(fitted.features)


def flow_scorecardpy(train, valid, names, categorical, monotonic, n_rows):
    """scorecardpy's README flow."""
    import scorecardpy as sc
    from sklearn.linear_model import LogisticRegression

    woebin = _patched("scorecardpy.woebin", SCORECARDPY_SHIMS["scorecardpy.woebin"])
    card_mod = _patched("scorecardpy.scorecard", SCORECARDPY_SHIMS["scorecardpy.scorecard"])
    data = train[names].copy()
    data["y"] = train["label"].astype(int).to_numpy()

    def fit():
        kept = sc.var_filter(data, y="y")
        bins = woebin.woebin(kept, y="y", ignore_datetime_cols=False, replace_blank=False)
        woe = woebin.woebin_ply(kept, bins, replace_blank=False)
        x = woe.loc[:, woe.columns != "y"]
        lr = LogisticRegression(penalty="l1", C=0.9, solver="saga").fit(x, woe["y"])
        return card_mod.scorecard(bins, lr, x.columns), len(x.columns)

    (card, n_features), fit_s = _timed(fit)

    def score(rows):
        return card_mod.scorecard_ply(rows, card, print_step=0, replace_blank_na=False)["score"]

    risk = -score(valid[names]).to_numpy(dtype=float)
    big = _repeat(valid[names], n_rows)
    _, score_s = _timed(lambda: score(big))
    return risk, fit_s, score_s, n_features


def _toad_frame(rows: pd.DataFrame, categorical) -> pd.DataFrame:
    """toad 0.1.7 on pandas 3: its selection indexes column labels with integer arrays,
    which an Arrow-backed ``str`` column index refuses; labels and categories as objects."""
    out = rows.copy()
    out.columns = pd.Index(list(out.columns), dtype=object)
    for col in categorical:
        if col in out:
            out[col] = out[col].astype(object)
    return out


def toad_card(data):
    """toad's README flow on a frame with a ``target`` column: the card and its variables."""
    import toad

    selected = toad.selection.select(data, target="target", empty=0.5, iv=0.02, corr=0.7)
    combiner = toad.transform.Combiner()
    combiner.fit(selected, y="target", method="chi", min_samples=0.05)
    binned = combiner.transform(selected)
    woe = toad.transform.WOETransformer()
    woe_data = woe.fit_transform(binned, binned["target"], exclude=["target"])
    final = toad.selection.stepwise(
        woe_data, target="target", estimator="ols", direction="both", criterion="aic"
    )
    columns = [c for c in final.columns if c != "target"]
    card = toad.ScoreCard(
        combiner=combiner, transer=woe, C=0.1, base_score=600, base_odds=50, pdo=20
    )
    card.fit(final[columns], final["target"])
    return card, len(columns)


def flow_toad(train, valid, names, categorical, monotonic, n_rows):
    """toad's README flow."""
    data = _toad_frame(train[names], categorical)
    data["target"] = train["label"].astype(int).to_numpy()

    (card, n_features), fit_s = _timed(lambda: toad_card(data))
    risk = -np.asarray(card.predict(_toad_frame(valid[names], categorical)), dtype=float)
    big = _toad_frame(_repeat(valid[names], n_rows), categorical)
    _, score_s = _timed(lambda: card.predict(big))
    return risk, fit_s, score_s, n_features


def flow_lightgbm(train, valid, names, categorical, monotonic, n_rows):
    """The training stage's LightGBM reference (not a scorecard: the flexible benchmark)."""
    import lightgbm as lgb

    x_train, to_frame = lightgbm_frames(train, names, categorical)
    model = lgb.LGBMClassifier(**LGBM_REFERENCE, random_state=0)
    _, fit_s = _timed(lambda: model.fit(x_train, train["label"].astype(int)))
    risk = model.predict_proba(to_frame(valid))[:, 1]
    big = to_frame(_repeat(valid, n_rows))
    _, score_s = _timed(lambda: model.predict_proba(big))
    return risk, fit_s, score_s, len(names)


FLOWS = {
    "workbench (optbinning)": flow_workbench,
    "scorecardpy 0.1.9.7": flow_scorecardpy,
    "toad 0.1.7": flow_toad,
    "LightGBM reference": flow_lightgbm,
}


def load_split(panel_path: str | None):
    """The panel (default: the train stage's on the latest ingest) with the 12-month embargo."""
    if panel_path:
        panel = pd.read_parquet(panel_path)
        rows = panel[panel["label"].notna()]
        cut = default_validation_from(rows["snapshot"])
    else:
        from workbench import workspace
        from workbench.stages import train as train_stage

        data = workspace.current().ingest.require_latest()
        folder, cut = train_stage.default_panel(data, data.snapshot)
        panel = folder.read_panel()
        rows = panel[panel["label"].notna()]
    train, valid, _ = split_with_embargo(rows, pd.Timestamp(cut), 12)
    if train.empty:
        raise SystemExit("the panel leaves no training rows with a 12-month embargo")
    return train, valid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", help="training panel parquet (default: the stage's)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows scored")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    train, valid = load_split(args.panel)
    catalog = load_catalog()
    names = [i.id for i in catalog.indicators]
    categorical = [i.id for i in catalog.indicators if i.categorical]
    monotonic = {i.id: TREND[i.direction] for i in catalog.indicators if not i.categorical}
    y = valid["label"].astype(int).to_numpy()
    print(
        f"train {len(train):,} rows ({train['snapshot'].nunique()} snapshots), validation "
        f"{len(valid):,} rows ({valid['snapshot'].nunique()}), bad rate {y.mean():.4f}, "
        f"{len(names)} candidate indicators, scoring {args.rows:,} rows"
    )
    results = {}
    for name, flow in FLOWS.items():
        try:
            risk, fit_s, score_s, n_features = flow(
                train, valid, names, categorical, monotonic, args.rows
            )
            results[name] = {
                "auc": roc_auc_score(y, risk),
                "ks": ks_statistic(y, risk),
                "fit": fit_s,
                "score": score_s,
                "features": n_features,
            }
        except Exception as err:  # noqa: BLE001 - a failing library is a result
            results[name] = {"error": f"{type(err).__name__}: {err}".splitlines()[0][:160]}
            traceback.print_exc(limit=3)
        print(name, results[name], flush=True)
    ours = results["workbench (optbinning)"]
    print()
    print(
        "| flow | features | valid AUC | AUC ratio | KS | fit s | fit ratio "
        f"| score {args.rows:,} s | score ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | — | fails: {r['error']} | | | | | | |")
            continue
        print(
            f"| {name} | {r['features']} | {r['auc']:.4f} | {r['auc'] / ours['auc']:.3f} "
            f"| {r['ks']:.4f} | {r['fit']:.1f} | {r['fit'] / ours['fit']:.2f}× "
            f"| {r['score']:.1f} | {r['score'] / ours['score']:.2f}× |"
        )


if __name__ == "__main__":
    main()
