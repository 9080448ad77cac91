"""The model comparison page (模型对比报告): one self-contained Chinese HTML file.

Inline CSS and charts as inline PNG, no script and no external address, every value
escaped: the page is logged to MLflow and opened by reviewers offline.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import roc_curve

from workbench.views import style

if TYPE_CHECKING:
    import pandas as pd

    from workbench.governance.compare import Comparison

SECTIONS = (
    "概要",
    "区分能力",
    "ROC 与 KS 曲线",
    "指标增减",
    "评分卡分值对照",
    "等级迁移",
    "晋级门槛",
)
_CSS = """
body { font-family: "Noto Sans CJK SC", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eef; } td:first-child, th:first-child { text-align: left; }
figure { margin: 0; } .note { color: #555; font-size: 0.9em; }
"""


def _table(frame: pd.DataFrame, index: bool = False) -> str:
    return frame.to_html(index=index, escape=True, float_format=lambda v: f"{v:.4f}", na_rep="")


def _figure(comparison: Comparison) -> str:
    style.use_cjk_font()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (roc, ks) = plt.subplots(1, 2, figsize=(10, 4.2))
    for who, risk in (("A", comparison.risk_a), ("B", comparison.risk_b)):
        fpr, tpr, _ = roc_curve(comparison.label, risk)
        roc.plot(fpr, tpr, label=f"模型 {who}")
        order = np.argsort(-risk)
        bad = np.cumsum(comparison.label[order]) / max(comparison.label.sum(), 1)
        good = np.cumsum(1 - comparison.label[order]) / max((1 - comparison.label).sum(), 1)
        share = np.arange(1, len(order) + 1) / len(order)
        ks.plot(share, bad - good, label=f"模型 {who}")
    roc.plot([0, 1], [0, 1], color="#999", linestyle=":")
    roc.set(title="ROC 曲线", xlabel="误报率（好企业被判高风险）", ylabel="命中率（坏企业被识别）")
    ks.set(
        title="KS 曲线", xlabel="按风险从高到低累计的企业占比", ylabel="坏企业与好企业累计占比之差"
    )
    for ax in (roc, ks):
        ax.legend(loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<figure><img alt="ROC 与 KS 曲线" src="data:image/png;base64,{encoded}"></figure>'


def render(comparison: Comparison) -> str:
    """The whole page as HTML text."""
    esc = html.escape
    a, b = comparison.a, comparison.b
    summary = (
        "<table><tr><th></th><th>模型 A（参照）</th><th>模型 B（挑战者）</th></tr>"
        f"<tr><td>运行名称</td><td>{esc(a.name)}</td><td>{esc(b.name)}</td></tr>"
        f"<tr><td>运行编号</td><td>{esc(a.run_id)}</td><td>{esc(b.run_id)}</td></tr>"
        f"<tr><td>入模指标数</td><td>{len(a.features)}</td><td>{len(b.features)}</td></tr>"
        "</table>"
        f'<p class="note">两个模型在同一批 {len(comparison.label):,} 条验证样本上评估；'
        "区间为配对自助法（bootstrap）95% 区间。内部参考，不对外公开。</p>"
    )
    if comparison.migration is None:
        migration = '<p class="note">无数据：未提供评级月份的指标。</p>'
    else:
        month = esc(comparison.month) or "所选月份"
        migration = (
            f'<p class="note">{month}同一批企业在两个模型下的等级（行：A，列：B）。</p>'
            + _table(comparison.migration, index=True)
        )
    gates = (
        _table(comparison.gates)
        if len(comparison.gates)
        else '<p class="note">两个运行都未经过晋级检查（workbench promote）。</p>'
    )
    bodies = (
        summary,
        _table(comparison.discrimination),
        _figure(comparison),
        _table(comparison.indicators),
        _table(comparison.points),
        migration,
        gates,
    )
    sections = "\n".join(
        f"<section><h2>{esc(title)}</h2>{body}</section>"
        for title, body in zip(SECTIONS, bodies, strict=True)
    )
    title = f"模型对比：{esc(a.name)} 与 {esc(b.name)}"
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head>"
        f"<body><h1>{title}</h1>\n{sections}\n</body></html>\n"
    )
