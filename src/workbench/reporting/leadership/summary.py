"""The one-page summary (本月概况): key figures and plain-language findings.

The figures come from the same inputs as the sections; a figure without its input
shows '—' and the findings say plainly what the month lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench.reporting.leadership.inputs import (
    PSI_ALERT,
    PSI_LEVELS,
    PSI_WATCH,
    MonthInputs,
    first_month,
    high_risk,
    load_inputs,
    migration_moves,
    plan_overview,
    psi_status,
    score_psi,
)
from workbench.reporting.leadership.markup import (
    INSUFFICIENT,
    ci,
    esc,
    expected,
    num,
    pct,
    psi_text,
)


@dataclass(frozen=True)
class KeyFigure:
    """One figure of the one-page summary (本月概况)."""

    label: str
    value: str
    note: str = ""


#: What the first month says where a comparison with last month would stand.
FIRST_MONTH = "首个分类月份，没有上月结果可比"


def key_figures(inputs: MonthInputs) -> list[KeyFigure]:
    """The figures of the one-page summary; '—' where the month has no input for them."""
    figures: list[KeyFigure] = []
    first = first_month(inputs)
    summary = inputs.grade_summary or {}
    total = summary.get("enterprises")
    figures.append(KeyFigure("参与分类市场主体", f"{num(total)} 户" if total else "—"))
    high = high_risk(summary, inputs.high_risk_grades)
    note = ""
    if high and len(inputs.history) >= 2 and inputs.history[-1][0] == inputs.month:
        before = high_risk(inputs.history[-2][1], inputs.high_risk_grades)
        if before:
            note = f"较上月 {(high[1] - before[1]) * 100:+.2f} 个百分点"
    grades_zh = "、".join(inputs.high_risk_grades)
    figures.append(
        KeyFigure(
            f"高风险（{grades_zh} 类）占比" if grades_zh else "高风险占比",
            pct(high[1]) if high else "—",
            (f"{num(high[0])} 户" + (f"，{note}" if note else "")) if high else "",
        )
    )
    moves = None if first else migration_moves(inputs)
    figures.append(
        KeyFigure(
            "风险等级上升",
            f"{num(moves['up'])} 户" if moves else "—",
            f"下降 {num(moves['down'])} 户，新增 {num(moves['new'])} 户"
            if moves
            else (FIRST_MONTH if first else ""),
        )
    )
    plans = [plan_overview(p) for p in inputs.plans]
    inspected = sum(p["inspected"] or 0 for p in plans)
    found = sum(p["found"] or 0 for p in plans)
    figures.append(
        KeyFigure(
            "本月抽查检查",
            f"{num(inspected)} 户" if plans else "—",
            f"发现问题 {num(found)} 户" if plans else "",
        )
    )
    one = plans[0] if len(plans) == 1 else None
    if one:
        figures.append(
            KeyFigure(
                "检出率",
                pct(one["hit"]),
                ci(one["hit_low"], one["hit_high"]).strip("（）") + "；发现问题 ÷ 有结论的检查",
            )
        )
        uniform_note = ci(one["uniform_found_low"], one["uniform_found_high"], expected)
        uniform_note = uniform_note.strip("（）")
        figures.append(
            KeyFigure(
                "同样检查量随机均匀抽查预期发现",
                f"{expected(one['uniform_found'])} 户" if one["uniform_found"] is not None else "—",
                f"{uniform_note}；本计划实际发现 {num(one['found'])} 户",
            )
        )
        if one["lift_low"] is not None:
            value = f"{one['lift']:.2f} 倍"
            lift_note = f"95% 区间 {one['lift_low']:.2f}–{one['lift_high']:.2f} 倍"
        elif one["lift"] is not None:
            value, lift_note = INSUFFICIENT, "发现问题太少，无法给出有意义的区间"
        else:
            value, lift_note = "—", ""
        figures.append(KeyFigure("分级抽查提升倍数", value, lift_note))
    elif plans:
        rate = found / inspected if inspected else None
        figures.append(KeyFigure("检出率（各计划合计）", pct(rate), f"{len(plans)} 个抽查计划"))
    else:
        figures.append(KeyFigure("检出率", "—", "本月无抽查评估结果"))
    psi_value = score_psi(inputs.psi)
    figures.append(
        KeyFigure(
            "评分稳定性 PSI",
            psi_text(psi_value),
            psi_status(psi_value) if psi_value is not None else (FIRST_MONTH if first else ""),
        )
    )
    if first:
        figures.append(KeyFigure("预警企业", "—", f"{FIRST_MONTH}，不产生等级变动预警"))
    else:
        figures.append(
            KeyFigure(
                "预警企业",
                f"{num(len(inputs.warnings))} 户" if inputs.warnings is not None else "—",
                "名单仅供内部核查" if inputs.warnings is not None else "",
            )
        )
    return figures


def overview(inputs: MonthInputs) -> str:
    """本月概况: the key figure cards and the plain-language findings."""
    figures = key_figures(inputs)
    cards = "".join(
        f'<div class="card"><div class="label">{esc(f.label)}</div>'
        f'<div class="value">{esc(f.value)}</div><div class="note">{esc(f.note)}</div></div>'
        for f in figures
    )
    points = _conclusions(inputs)
    listing = "".join(f"<li>{p}</li>" for p in points)
    return f'<div class="cards">{cards}</div><h3>要点</h3><ul>{listing}</ul>'


def _conclusions(inputs: MonthInputs) -> list[str]:
    """Plain-language findings for the summary page (HTML-escaped fragments)."""
    points = []
    summary = inputs.grade_summary
    first = first_month(inputs)
    if summary:
        counts = summary.get("counts") or {}
        labels = inputs.grade_labels
        parts = "，".join(
            f"{esc(g)} 类（{esc(labels.get(g, ''))}）{num(counts.get(g, 0))} 户"
            for g in inputs.grade_codes
        )
        points.append(
            f"本月共对 {num(summary.get('enterprises'))} 户市场主体进行信用风险分类：{parts}。"
        )
    else:
        points.append("本月尚无信用风险分类结果。")
    if first:
        points.append(
            "本月为首个分类月份，没有上月结果可比：等级迁移、风险预警和模型健康监测"
            "（PSI）要到下月才能计算。"
        )
    for plan in inputs.plans:
        points.append(plan_sentence(plan))
    if not inputs.plans:
        points.append("本月尚无双随机抽查评估结果。")
    psi_value = score_psi(inputs.psi)
    if psi_value is not None:
        css = dict(zip(PSI_LEVELS, ("good", "warn", "bad"), strict=True))[psi_status(psi_value)]
        points.append(
            f'评分分布与上月相比 PSI {psi_text(psi_value)}，<span class="{css}">'
            f"{psi_status(psi_value)}</span>"
            f"（{PSI_WATCH} 以下稳定，{PSI_ALERT} 及以上需复核模型）。"
        )
    elif not first:
        points.append("本月尚无模型健康监测结果（PSI 未计算）。")
    return points


def plan_sentence(plan) -> str:
    """One plan's result in a sentence: finding rate, the uniform draw, the lift."""
    o = plan_overview(plan)
    if o["hit"] is None:
        return f"抽查计划“{esc(plan.name)}”尚无检查结果。"
    text = (
        f"抽查计划“{esc(plan.name)}”：检查 {num(o['inspected'])} 户，发现问题 "
        f"{num(o['found'])} 户，检出率 {pct(o['hit'])}{ci(o['hit_low'], o['hit_high'])}"
    )
    if o["uniform_found"] is not None:
        text += (
            f"；同样检查 {num(o['inspected'])} 户、在抽查名录内随机均匀抽查，预期发现问题 "
            f"{expected(o['uniform_found'])} 户"
            + ci(o["uniform_found_low"], o["uniform_found_high"], expected)
        )
    if o["lift_low"] is not None:
        text += (
            f"，分级抽查是其 {o['lift']:.2f} 倍（95% 区间 {o['lift_low']:.2f}–"
            f"{o['lift_high']:.2f}）"
        )
        if o["lift_low"] > 1:
            text += '，<span class="good">显著高于随机抽查</span>'
        elif o["lift_high"] < 1:
            text += '，<span class="bad">低于随机抽查</span>'
        else:
            text += '，<span class="warn">与随机抽查的差异尚不显著</span>'
    elif o["lift"] is not None:
        text += f"；提升倍数{INSUFFICIENT}（发现问题太少，无法判断分级抽查是否优于随机抽查）"
    return text + "。"


def key_figures_table(month: str) -> pd.DataFrame:
    """The summary figures of ``month`` as a table (指标, 数值, 说明) for notebooks."""
    figures = key_figures(load_inputs(month))
    return pd.DataFrame(
        {"指标": [f.label for f in figures], "数值": [f.value for f in figures]}
        | {"说明": [f.note for f in figures]}
    )
