"""Charts of the indicator lab (指标实验室): interactive where exploring helps.

Plotly figures render in JupyterLab and in the notebook's HTML export (the library is
embedded in the page, so it opens offline); every label is Chinese.
"""

from __future__ import annotations

import pandas as pd


def event_rate_figure(table: pd.DataFrame, title: str):
    """Rows per bin (bars) and the bad rate per bin (line), from a binning table."""
    import plotly.graph_objects as go

    bins = table[~table["bin"].isin(["Totals", ""])]
    fig = go.Figure()
    fig.add_bar(x=bins["bin"], y=bins["Count"], name="主体数", yaxis="y", marker_color="#9db7d5")
    fig.add_scatter(
        x=bins["bin"],
        y=bins["event_rate"],
        name="坏样本率",
        yaxis="y2",
        mode="lines+markers",
        line={"color": "#c0392b"},
        hovertemplate="%{x}: 坏样本率 %{y:.2%}<extra></extra>",
    )
    fig.update_layout(
        title=title,
        xaxis={"title": "分箱"},
        yaxis={"title": "主体数"},
        yaxis2={"title": "坏样本率", "overlaying": "y", "side": "right", "tickformat": ".1%"},
        legend={"orientation": "h", "y": -0.25},
        height=420,
    )
    return fig


def stability_figure(per_snapshot: pd.DataFrame, title: str):
    """IV per snapshot, training and validation months apart."""
    import plotly.express as px

    frame = per_snapshot.assign(
        期间=per_snapshot["period"].map({"training": "训练期", "validation": "验证期"})
    )
    fig = px.bar(
        frame, x="snapshot", y="IV", color="期间", title=title,
        labels={"snapshot": "评价基准日", "IV": "信息值 IV"},
    )  # fmt: skip
    fig.update_layout(height=380, legend={"orientation": "h", "y": -0.25})
    return fig
