"""The target draw (随机抽取检查对象): stratified sampling without replacement, replayable.

The procedure (version ``draw-v1``) uses nothing but SHA-256, so anyone holding the plan,
the register snapshot and the seed can redo it on any platform, in any language:

1. Every eligible enterprise *i* of stratum *h* (its grade, or ``grade/region``) gets the
   selection key ``SHA-256("{seed}|{plan_id}|{month}|{h}|{uscc_i}")`` (UTF-8, the 32-byte
   digest read as a big-endian number).
2. Within each stratum, with ``N_h`` eligible enterprises, the ``n_h`` with the smallest
   keys are drawn, ``n_h = min(N_h, max(min_h, ceil(ratio_h × N_h)))`` capped by
   ``max_h`` — a simple random sample without replacement, so every enterprise of the
   stratum has the inclusion probability (入样概率) ``π = n_h / N_h`` exactly (1 when the
   stratum is taken whole: full coverage, or a minimum above the stratum's size).
3. The drawn enterprises are put in draw order (抽取顺序) by a second key
   ``SHA-256("{seed}|{plan_id}|{month}|draw-order|{uscc_i}")``, smallest first.

``month`` (YYYY-MM of the grade file) makes the same plan draw afresh every month. The
implementation compares the first 128 bits of each digest and falls back to the whole
digest if two ever tie, so it is exactly the documented order.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from workbench.sampling.plan import GradeRule

PROCEDURE = "draw-v1"
PROCEDURE_TEXT = (
    "selection key SHA-256('{seed}|{plan_id}|{month}|{stratum}|{uscc}'); within each stratum "
    "the n_h smallest keys, n_h = min(N_h, max(min, ceil(ratio × N_h)), max); "
    "pi = n_h / N_h; draw order by SHA-256('{seed}|{plan_id}|{month}|draw-order|{uscc}')"
)


def digests(prefix: str, labels, uscc) -> np.ndarray:
    """SHA-256 of ``prefix + label + "|" + uscc`` for each row, as a (rows, 4) uint64 array.

    The four words are the digest's big-endian 64-bit words, so lexicographic order of
    the rows is numeric order of the digests.
    """
    sha = hashlib.sha256
    if isinstance(labels, str):
        head = f"{prefix}{labels}|"
        raw = b"".join(sha(f"{head}{u}".encode()).digest() for u in uscc)
    else:
        raw = b"".join(
            sha(f"{prefix}{h}|{u}".encode()).digest() for h, u in zip(labels, uscc, strict=True)
        )
    return np.frombuffer(raw, dtype=">u8").reshape(-1, 4).astype(np.uint64)


def key_order(words: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Row order by (group, digest), exactly: 128-bit comparison with a full-digest fallback."""
    keys = [words[:, 1], words[:, 0]]
    if groups is not None:
        keys.append(groups)
    order = np.lexsort(keys)
    w = words[order]
    same = (w[1:, 0] == w[:-1, 0]) & (w[1:, 1] == w[:-1, 1])
    if groups is not None:
        same &= groups[order][1:] == groups[order][:-1]
    if same.any():  # a 128-bit tie: order by all 256 bits (never seen in practice)
        keys = [words[:, 3], words[:, 2], words[:, 1], words[:, 0]]
        if groups is not None:
            keys.append(groups)
        order = np.lexsort(keys)
    return order


def stratum_counts(
    frame: pd.DataFrame, rules: dict[str, GradeRule], grade_order: list[str]
) -> pd.DataFrame:
    """Per stratum: grade, eligible population ``N_h``, draw size ``n_h`` and ``π``.

    Every stratum of ``frame`` is listed, in grade order (then region), even one with no
    eligible enterprise (``π`` 0 there). ``frame`` needs ``stratum``, ``grade`` and
    ``eligible``.
    """
    groups = frame.groupby(["stratum", "grade"], sort=False)["eligible"]
    table = groups.sum().astype("int64").rename("population").reset_index()
    rank = {g: i for i, g in enumerate(grade_order)}
    table["_rank"] = table["grade"].map(rank)
    table = table.sort_values(["_rank", "stratum"]).drop(columns="_rank").reset_index(drop=True)
    table["drawn"] = [
        rules[g].count(int(n)) for g, n in zip(table["grade"], table["population"], strict=True)
    ]
    table["inclusion_probability"] = [
        (d / n) if n else 0.0 for d, n in zip(table["drawn"], table["population"], strict=True)
    ]
    return table


def draw(
    frame: pd.DataFrame,
    counts: pd.DataFrame,
    seed: int,
    plan_id: str,
    month: str,
) -> pd.DataFrame:
    """Draw ``counts.drawn`` enterprises per stratum from the eligible rows of ``frame``.

    Returns the drawn rows in draw order with ``draw_order`` (1-based) and
    ``inclusion_probability``; other columns of ``frame`` are kept.
    """
    pool = frame.loc[frame["eligible"]].reset_index(drop=True)
    if not len(pool):
        out = pool.assign(draw_order=pd.Series(dtype="int64"), inclusion_probability=0.0)
        return out
    codes, uniques = pd.factorize(pool["stratum"], sort=True)
    words = digests(
        f"{seed}|{plan_id}|{month}|",
        pool["stratum"].to_numpy(dtype=str),
        pool["uscc"].to_numpy(dtype=str),
    )
    order = key_order(words, codes)
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(len(uniques)))
    rank_in_stratum = np.arange(len(order)) - starts[sorted_codes]
    wanted = counts.set_index("stratum")["drawn"].reindex(uniques).fillna(0).to_numpy()
    chosen = order[rank_in_stratum < wanted[sorted_codes]]
    drawn = pool.iloc[np.sort(chosen)].reset_index(drop=True)
    pi = counts.set_index("stratum")["inclusion_probability"]
    drawn["inclusion_probability"] = drawn["stratum"].map(pi).astype(float)
    order_words = digests(
        f"{seed}|{plan_id}|{month}|", "draw-order", drawn["uscc"].to_numpy(dtype=str)
    )
    drawn = drawn.iloc[key_order(order_words)].reset_index(drop=True)
    drawn["draw_order"] = np.arange(1, len(drawn) + 1, dtype=np.int64)
    return drawn
