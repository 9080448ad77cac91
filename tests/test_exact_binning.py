"""The exact dynamic programme gives optbinning's CP optimum, and chooses shapes with care."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from optbinning import OptimalBinning

from workbench.scoring.exact_binning import ExactBinning, best_partition, held_out_choice
from workbench.scoring.scorecard import fit_scorecard

SHAPES = {
    "rising": lambda x: x,
    "falling": lambda x: -x,
    "u": lambda x: x**2,
    "cap": lambda x: -(x**2),
    "wave": lambda x: np.sin(2 * x),
    "none": lambda x: 0 * x,
}


def _data(shape: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-1.5 + 0.8 * SHAPES[shape](x))))
    return x, (rng.random(n) < p).astype(int)


def _iv(binning) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return float(binning.binning_table.build().loc["Totals", "IV"])


@pytest.mark.parametrize("trend", ["ascending", "descending", "peak", "valley", None])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_same_optimum_as_the_cp_solver(trend, shape):
    """Same pre-bins, same constraints: the IV the CP solver proves optimal, to 1e-9."""
    x, y = _data(shape, 3000, seed=len(shape) * 7 + len(str(trend)))
    x[::97] = np.nan  # missing values take no part in the bins but count in the totals
    params = dict(
        monotonic_trend=trend,
        min_bin_n_event=10,
        min_bin_n_nonevent=10,
        max_n_prebins=20,
        min_prebin_size=0.02,
    )
    cp = OptimalBinning(**params).fit(x, y)
    exact = ExactBinning(**params).fit(x, y)
    assert exact._optimizer is None  # the dynamic programme ran, not CP-SAT
    assert _iv(exact) == pytest.approx(_iv(cp), abs=1e-9)
    counts = exact.binning_table.build().drop(index="Totals")
    clean = counts.iloc[: len(exact.splits) + 1]
    assert (clean["Event"] >= 10).all() and (clean["Non-event"] >= 10).all()
    rates = clean["Event rate"].to_numpy()
    if trend == "ascending":
        assert np.all(np.diff(rates) >= -1e-12)
    if trend == "descending":
        assert np.all(np.diff(rates) <= 1e-12)


def test_options_it_does_not_solve_go_to_the_cp_solver():
    x, y = _data("rising", 3000, seed=1)
    params = dict(max_n_bins=4, min_bin_n_event=10, min_bin_n_nonevent=10)
    exact = ExactBinning(**params).fit(x, y)
    cp = OptimalBinning(**params).fit(x, y)
    assert exact._optimizer is not None
    np.testing.assert_array_equal(exact.splits, cp.splits)


def test_no_feasible_split_leaves_one_bin():
    nonevent, event = np.array([50.0, 60.0, 40.0]), np.array([3.0, 2.0, 4.0])
    solution, iv = best_partition(nonevent, event, 10, 10, "ascending")
    assert solution.tolist() == [False, False, True] and iv == 0.0


@pytest.mark.parametrize(("shape", "expected"), [("rising", "ascending"), ("u", "valley")])
def test_auto_picks_the_shape_in_the_data(shape, expected):
    x, y = _data(shape, 20_000, seed=3)
    binning = ExactBinning(monotonic_trend="auto", min_bin_n_event=10, min_bin_n_nonevent=10)
    binning.fit(x, y)
    assert binning.trend_ == expected


def test_held_out_choice_prefers_the_monotone_shape_on_a_monotone_truth():
    x, y = _data("rising", 20_000, seed=4)
    edges = np.quantile(x, np.linspace(0, 1, 21)[1:-1])
    index = np.searchsorted(edges, x)
    nonevent = np.bincount(index, 1 - y).astype(float)
    event = np.bincount(index, y).astype(float)
    assert held_out_choice(nonevent, event, (10, 10), ("ascending", "peak")) == "ascending"
    x, y = _data("cap", 20_000, seed=4)
    index = np.searchsorted(edges, x)
    nonevent = np.bincount(index, 1 - y).astype(float)
    event = np.bincount(index, y).astype(float)
    assert held_out_choice(nonevent, event, (10, 10), ("ascending", "peak")) == "peak"


def test_the_iv_table_names_each_trend():
    """A U-shaped effect keeps its valley; a monotone one is ascending or descending."""
    rng = np.random.default_rng(5)
    n = 20_000
    X = pd.DataFrame({"age": rng.uniform(18, 80, n), "debt": rng.normal(size=n)})
    logit = -1.8 + 0.002 * (X["age"] - 45) ** 2 + 0.6 * X["debt"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    card = fit_scorecard(X, y)
    trends = card.iv_table.set_index("feature")["trend"]
    assert trends["age"] == "valley"
    assert trends["debt"] == "ascending"
