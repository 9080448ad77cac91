"""The report's sections (报告章节) after the summary page: one function per section.

Each section takes the month's :class:`~.inputs.MonthInputs` and returns HTML; a section
whose input is absent returns a 无数据 notice naming the file it looked for. Only
aggregates are shown: counts, shares, rates and intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import workspace
from workbench.config import labels as config_labels
from workbench.reporting.leadership.inputs import (
    OVERALL,
    PSI_ALERT,
    PSI_WATCH,
    MonthInputs,
    PlanResults,
    first_month,
    grade_psi,
    health_messages,
    indicator_psi,
    migration_moves,
    plan_overview,
    psi_status,
    reconciliation_counts,
    score_psi,
)
from workbench.reporting.leadership.markup import (
    INSUFFICIENT,
    ci,
    esc,
    expected,
    grade_colors,
    html_table,
    industry_label,
    inline_figure,
    month_zh,
    new_figure,
    nodata,
    num,
    pct,
    psi_text,
    region_label,
)
from workbench.views.evaluation import captured_note
from workbench.views.style import error_bars

#: Region × industry cells with fewer enterprises are left blank (统计披露控制): a share
#: over a handful of enterprises is noise and close to naming them (as in the grade stage).
MIN_CELL = 30
#: Health messages listed at most (the rest are counted).
MAX_MESSAGES = 15


def _grades(inputs: MonthInputs):
    return workspace.current().grades.at(inputs.month)


def _health(inputs: MonthInputs):
    return workspace.current().health.at(inputs.month)


def _region_labels(frame: pd.DataFrame) -> dict[str, str]:
    """Region code → '名称（代码）', the name from the file's ``region_name`` when present."""
    codes = frame["region_code"].astype(str)
    names = frame["region_name"] if "region_name" in frame else codes
    return {c: region_label(c, n) for c, n in zip(codes, names, strict=True)}


# ----------------------------------------------------------------------------- grades


def grades_section(inputs: MonthInputs) -> str:
    """信用风险分类结果: distribution, trend, migration, qualitative overrides (counts)."""
    folder = _grades(inputs)
    if inputs.grade_summary is None and inputs.distribution is None:
        return nodata("本月尚无信用风险分类结果", folder.file("summary"))
    summary, codes, labels = inputs.grade_summary or {}, inputs.grade_codes, inputs.grade_labels
    model, scheme = summary.get("model") or {}, summary.get("scheme") or {}
    scheme_name = scheme.get("name") or config_labels.scheme_name(scheme.get("id", "—"))
    parts = [
        f'<p class="meta">分类方案：{esc(scheme_name)}；'
        f"评分模型：{esc(inputs.model_label)} 第 {esc(model.get('version', '—'))} 版；"
        f"基准日：{esc(summary.get('snapshot', inputs.month))}。</p>"
    ]
    dist = inputs.distribution
    if dist is None:
        counts, total = summary.get("counts") or {}, summary.get("enterprises") or 0
        dist = pd.DataFrame({"grade": codes, "enterprises": [counts.get(g, 0) for g in codes]})
        dist["share"] = dist["enterprises"] / max(total, 1)
    grade = dist["grade"].astype(str)
    shown = pd.DataFrame(
        {
            "等级": grade,
            "含义": [labels.get(g, "") for g in grade],
            "企业数（户）": dist["enterprises"].map(num),
            "占比": dist["share"].map(pct),
        }
    )
    if "model_grade_enterprises" in dist:
        shown["模型初评户数"] = dist["model_grade_enterprises"].map(num)
    if "mean_pd" in dist:
        shown["平均预测违约概率"] = dist["mean_pd"].map(lambda v: pct(v, 2))
    parts.append(html_table(shown, text_columns=("等级", "含义")))
    fig, ax = new_figure(7.5, 3.2)
    bars = ax.bar(grade, dist["enterprises"], color=grade_colors(len(dist)))
    for bar, share in zip(bars, dist["share"], strict=True):
        ax.annotate(
            pct(share),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_ylabel("企业数（户）")
    ax.set_title(f"{month_zh(inputs.month)} 信用风险等级分布")
    ax.margins(y=0.15)
    parts.append(inline_figure(fig, "各等级企业数与占比"))
    if len(inputs.history) >= 2:
        parts.append(_trend_figure(inputs))
    parts.append("<h3>等级迁移（与上月相比）</h3>")
    parts.append(_migration_html(inputs))
    parts.append(_overrides_html(inputs))
    return "".join(parts)


def _trend_figure(inputs: MonthInputs) -> str:
    codes = inputs.grade_codes
    months = [m for m, _ in inputs.history]
    fig, ax = new_figure(7.5, 3.0)
    for code, color in zip(codes, grade_colors(len(codes)), strict=True):
        shares = [
            (s.get("counts") or {}).get(code, 0) / max(s.get("enterprises") or 1, 1)
            for _, s in inputs.history
        ]
        ax.plot(months, np.array(shares) * 100, marker="o", color=color, label=f"{code} 类")
    ax.set_ylabel("占比（%）")
    ax.set_title("近月各等级占比变化")
    ax.legend(ncols=len(codes), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return inline_figure(fig, "各等级占比的月度趋势")


def _migration_html(inputs: MonthInputs) -> str:
    matrix = inputs.migration
    if matrix is None:
        return nodata("本月无等级迁移表", _grades(inputs).file("migration"))
    codes = inputs.grade_codes
    matrix = matrix.fillna(0)
    if (
        first_month(inputs)
        or not (matrix.index.astype(str).isin(codes) & (matrix.sum(axis=1) > 0)).any()
    ):
        return "<p>本月为首个分类月份，没有上月结果可比，所有市场主体均为首次分类，无等级迁移。</p>"
    moves = migration_moves(inputs) or {}
    biggest = max(float(matrix.to_numpy().max()), 1.0)
    head = "".join(
        f"<th>本月 {esc(c)}</th>" if str(c) in codes else f"<th>{esc(c)}</th>"
        for c in matrix.columns
    )
    rows = []
    for previous, row in matrix.iterrows():
        label = f"上月 {previous}" if str(previous) in codes else str(previous)
        cells = []
        for current, count in row.items():
            shade = 0.06 + 0.5 * float(count) / biggest
            diag = ' class="diag"' if str(current) == str(previous) else ""
            cells.append(
                f'<td{diag} style="background: rgba(139,30,30,{shade:.2f})">{num(count)}</td>'
            )
        rows.append(f'<tr><th class="text">{esc(label)}</th>{"".join(cells)}</tr>')
    table = (
        f'<table><thead><tr><th class="text">上月等级</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    text = (
        f'<p>风险等级上升 <span class="bad">{num(moves.get("up"))}</span> 户，'
        f'下降 <span class="good">{num(moves.get("down"))}</span> 户，'
        f"保持不变 {num(moves.get('same'))} 户，本月新增 {num(moves.get('new'))} 户。</p>"
    )
    return table + text


def _overrides_html(inputs: MonthInputs) -> str:
    summary, parts = inputs.grade_summary or {}, []
    table = inputs.overrides
    if table is not None and {"rule", "moved"} <= set(table.columns):
        moved = table[table["moved"] > 0]
        if len(moved):
            described = moved["rule"].astype(str).map(config_labels.rule_label)
            if "description" in moved:
                described = moved["description"].where(moved["description"].notna(), described)
            parts.append("<h3>定性判定调整（汇总）</h3>")
            parts.append(
                html_table(
                    pd.DataFrame({"定性判定规则": described, "调整户数": moved["moved"].map(num)}),
                    text_columns=("定性判定规则",),
                )
            )
    facts = []
    if summary.get("overridden") is not None:
        facts.append(f"经定性判定调整等级的市场主体 {num(summary['overridden'])} 户")
    if summary.get("observation") is not None:
        facts.append(f"新设立、纳入触发式监管观察的 {num(summary['observation'])} 户")
    if facts:
        parts.append(f"<p>{'；'.join(facts)}。</p>")
    return "".join(parts)


# ----------------------------------------------------------------------------- sampling


def sampling_section(inputs: MonthInputs) -> str:
    """双随机抽查成效: per plan, hit rates with intervals against the uniform estimate."""
    if not inputs.plans:
        return nodata(
            "本月尚无双随机抽查结果评估", workspace.current().evaluations.root / inputs.month
        )
    return "".join(_plan_html(inputs, plan) for plan in inputs.plans)


def _plan_html(inputs: MonthInputs, plan: PlanResults) -> str:
    parts = [f"<h3>抽查计划：{esc(plan.name)}</h3>"]
    if plan.strata is not None:
        parts.append(_design_table(plan.strata))
    per_grade = plan.per_grade
    if per_grade is None or "grade" not in per_grade:
        path = workspace.current().evaluations.at(inputs.month, plan.plan_id).file("per_grade")
        parts.append(nodata("该计划尚无分等级评估结果", path))
    else:
        overview = plan_overview(plan)
        parts.append(_per_grade_table(per_grade))
        parts.append(_per_grade_figure(per_grade, overview))
    parts.append(_plan_conclusion(plan))
    counts = reconciliation_counts(plan)
    if counts:
        table = pd.DataFrame({"结果核对与公示": [c[0] for c in counts]})
        table["数量"] = [num(c[1]) for c in counts]
        parts.append(html_table(table, text_columns=("结果核对与公示",)))
    return "".join(parts)


def _design_table(strata: pd.DataFrame) -> str:
    """Drawn share per grade (抽查比例) of the plan's eligible frame (抽查名录).

    The frame is what the draw and every estimate cover: the plan's population without
    the excluded and, where a grade is triggered-only, the untriggered.
    """
    key = "grade" if "grade" in strata else "stratum"
    columns = (
        ("registered", "本计划范围内分类户数"),
        ("excluded", "近期已检查（排除）"),
        ("not_triggered", "未触发（无事不扰）"),
        ("population", "抽查名录户数"),
        ("drawn", "抽取户数"),
    )
    numbers = [c for c, _ in columns if c in strata]
    if not {"population", "drawn"} & set(numbers):
        return ""
    design = strata.groupby(strata[key].astype(str), sort=False)[numbers].sum()
    shown = pd.DataFrame({"等级": design.index})
    for column, title in columns:
        if column in design:
            shown[title] = design[column].map(num).to_numpy()
    if {"population", "drawn"} <= set(design):
        ratio = design["drawn"] / design["population"].where(design["population"] > 0)
        shown["抽取比例（占名录）"] = ratio.map(lambda v: pct(v, 2)).to_numpy()
    return '<p class="lead">抽查设计（各等级的抽查名录与抽取比例）：</p>' + html_table(
        shown, text_columns=("等级",)
    )


def _interval_cells(
    frame: pd.DataFrame, value: str, low: str, high: str, note: str | None = None
) -> list[str]:
    """'12.3% [8.1%, 17.9%]', '样本不足' where there is no interval, '—' without a value."""
    has_ci = {low, high} <= set(frame)
    notes = frame[note] if note and note in frame else pd.Series("", index=frame.index)
    notes = notes.astype(object).where(notes.notna(), "")
    cells = []
    for v, lo, hi, why in zip(
        frame[value],
        frame[low] if has_ci else frame[value],
        frame[high] if has_ci else frame[value],
        notes,
        strict=True,
    ):
        if why or not np.isfinite(v):
            cells.append(str(why) or "—")
        elif has_ci and np.isfinite(lo) and np.isfinite(hi):
            cells.append(f"{pct(v)} [{pct(lo)}, {pct(hi)}]")
        else:
            cells.append(f"{pct(v)}（{INSUFFICIENT}）")
    return cells


def _per_grade_table(per_grade: pd.DataFrame) -> str:
    frame = per_grade
    shown = pd.DataFrame({"等级": frame["grade"].astype(str)})
    for column, title in (
        ("graded", "分类户数"),
        ("frame_population", "抽查名录户数"),
        ("drawn", "抽取"),
        ("inspected", "已检查"),
        ("excluded", "无结论¹"),
        ("found", "发现问题"),
    ):
        if column in frame:
            shown[title] = frame[column].map(num)
    if "hit_rate" in frame:
        shown["检出率 [95% 区间]²"] = _interval_cells(frame, "hit_rate", "hit_low", "hit_high")
    if "ht_rate" in frame:
        shown["抽查名录检出率估计 [95% 区间]³"] = _interval_cells(
            frame, "ht_rate", "ht_low", "ht_high", "ht_note"
        )
    if "mean_pd" in frame:
        shown["模型预测概率⁴"] = frame["mean_pd"].map(lambda v: pct(v, 2))
    notes = (
        "¹ 未开展经营、已关闭或注销等，不计入检出率分母。"
        "² 发现问题户数 ÷ 有结论的检查户数，Wilson 区间。检出率是检查发现问题的比例"
        "（含未能查实的情形），不等于违法率。"
        "³ 按入样概率加权（Horvitz–Thompson）推算的该等级抽查名录（本计划可抽取的企业，"
        "见“抽查名录户数”）的预期检出率，不是该等级全部分类企业的：名录之外的企业（如未触发的"
        "低风险企业、近期已检查的企业）未被抽取，无法由本次抽查推算。全数抽取的等级同样给出区间，"
        "因为预期检出率并不因全部检查而确知。"
        "⁴ 已检查企业的模型预测违约概率（12 个月）平均值，用于核对模型与实际是否同向。"
    )
    return html_table(shown, text_columns=("等级",)) + f'<p class="note">{notes}</p>'


def _per_grade_figure(per_grade: pd.DataFrame, overview: dict) -> str:
    frame = per_grade[per_grade["grade"].astype(str) != OVERALL]
    if "hit_rate" not in frame or frame.empty:
        return ""
    rate = frame["hit_rate"].astype(float).to_numpy()
    low = frame.get("hit_low", frame["hit_rate"]).astype(float).to_numpy()
    high = frame.get("hit_high", frame["hit_rate"]).astype(float).to_numpy()
    fig, ax = new_figure(7.5, 3.4)
    x = np.arange(len(frame))
    ax.bar(x, rate * 100, color=grade_colors(len(frame)), alpha=0.85)  # grades on the axis
    ax.errorbar(
        x,
        rate * 100,
        yerr=error_bars(rate, low, high, scale=100),
        fmt="none",
        ecolor="#333",
        capsize=4,
        label="95% 区间（Wilson）",
    )
    reference, ref_low, ref_high = (
        overview.get("population"),
        overview.get("population_low"),
        overview.get("population_high"),
    )
    if reference is not None:
        ax.axhline(reference * 100, color="#595959", linestyle="--", label="抽查名录全体检出率估计")
        if ref_low is not None:
            ax.axhspan(ref_low * 100, ref_high * 100, color="#8c8c8c", alpha=0.15)
    ax.set_xticks(x, [f"{g} 类" for g in frame["grade"].astype(str)])
    ax.set_ylabel("检出率（%）")
    ax.set_title("各等级检出率与抽查名录全体对比")
    ax.margins(y=0.12)  # the legend sits below the axes: it never covers a bar's interval
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3)
    return inline_figure(
        fig,
        "柱：各等级检出率及 95% 区间；虚线及灰带：抽查名录（本计划可抽取的企业）全体检出率的"
        "加权估计及其 95% 区间，即在名录内随机均匀抽查预期的检出率",
    )


def _plan_conclusion(plan: PlanResults) -> str:
    o = plan_overview(plan)
    facts = []
    if o["population"] is not None:
        covers = "抽查名录"
        if o["frame_population"] is not None:
            covers += f"（本计划可抽取的 {num(o['frame_population'])} 户"
            if o["graded_population"]:
                covers += f"，占分类企业 {num(o['graded_population'])} 户的 {pct(o['coverage'])}"
            covers += "）"
        facts.append(
            f"{covers}的检出率估计为 {pct(o['population'])}"
            f"{ci(o['population_low'], o['population_high'])}"
        )
    if o["uniform_found"] is not None:
        facts.append(
            f"同样检查 {num(o['inspected'])} 户、在抽查名录内随机均匀抽查，预期发现问题 "
            f"{expected(o['uniform_found'])} 户"
            + ci(o["uniform_found_low"], o["uniform_found_high"], expected)
            + f"，本计划实际发现 {num(o['found'])} 户"
        )
    if o["lift_low"] is not None:
        facts.append(
            f"提升倍数 {o['lift']:.2f}（95% 区间 {o['lift_low']:.2f}–{o['lift_high']:.2f}）"
        )
    elif o["lift"] is not None:
        facts.append(f"提升倍数：{INSUFFICIENT}（发现问题太少，无法给出有意义的区间）")
    if o["extra_found"] is not None and o["lift_low"] is not None:
        extra = f"比随机均匀抽查多发现问题约 {expected(o['extra_found'])} 户"
        if o["extra_low"] is not None:
            extra += f"（95% 区间 {expected(o['extra_low'])}–{expected(o['extra_high'])}）"
        facts.append(extra)
    if o["share_on_a"] is not None:
        facts.append(f"最低风险等级企业占检查量 {pct(o['share_on_a'])}（无事不扰）")
    if o["excluded"]:
        facts.append(f"{num(o['excluded'])} 户因未开展经营、已关闭或注销等不计入检出率分母")
    parts = [f'<div class="conclusion">{"；".join(facts)}。</div>' if facts else ""]
    parts.append(_oracle_html(o))
    return "".join(parts)


def _oracle_html(o: dict) -> str:
    """The synthetic city's truth: the same plan with perfect grades, and the ceiling."""
    if o["oracle_found"] is None:
        return ""
    m = num(o["oracle_inspections"] or o["inspected"])
    rows = [
        ("在抽查名录内随机均匀抽查", o["oracle_uniform"]),
        ("本方案，按模型分级（本计划）", o["oracle_model_plan"]),
        ("同一方案（同样比例与规则），按真实风险分级", o["oracle_same_plan"]),
        ("不受方案约束，直接检查真实发现概率最高的企业（理论上限）", o["oracle_found"]),
    ]
    table = pd.DataFrame(
        {
            f"抽查方式（同样检查 {m} 户）": [r[0] for r in rows if r[1] is not None],
            "预期发现问题户数": [f"{r[1]:.1f}" for r in rows if r[1] is not None],
        }
    )
    text = (
        "<h3>演示城市：与真值对照</h3>"
        "<p>演示城市的真实违法状态已知，可计算各种抽查方式的预期发现数：</p>"
    )
    text += html_table(table, text_columns=(table.columns[0],))
    if o["oracle_captured"] is not None:
        text += (
            '<p class="conclusion">在本方案下，按真实风险分级相对随机均匀抽查可多发现的问题中，'
            f"现有模型已实现 <b>{pct(o['oracle_captured'], 0)}</b>"
            f"{captured_note(o['oracle_captured'])}——这是更好的模型还值多少的尺度。</p>"
        )
    return text


# ----------------------------------------------------------------------------- regions


def region_section(inputs: MonthInputs) -> str:
    """区域行业风险: high-risk share per region × industry, small cells left blank."""
    frame = inputs.region_industry
    if frame is None or frame.empty:
        return nodata("本月尚无区域行业风险汇总", _grades(inputs).file("region_industry"))
    frame = frame.assign(
        region_code=frame["region_code"].astype(str),
        industry_section=frame["industry_section"].astype(str),
    )
    if "high_risk_share" not in frame:
        frame["high_risk_share"] = frame["high_risk"] / frame["enterprises"].clip(lower=1)
    label = _region_labels(frame)
    shown = frame[frame["enterprises"] >= MIN_CELL]
    blank = int((frame["enterprises"] < MIN_CELL).sum())
    regions = sorted(frame["region_code"].unique())
    sections = sorted(frame["industry_section"].unique())
    grid = shown.pivot_table(
        index="region_code", columns="industry_section", values="high_risk_share", aggfunc="first"
    ).reindex(index=regions, columns=sections)
    high = "、".join(inputs.high_risk_grades) or "高风险"
    values = grid.to_numpy(dtype=float) * 100
    fig, ax = new_figure(10, 0.45 * len(regions) + 2.2)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="Reds", aspect="auto", vmin=0)
    ax.set_facecolor("#e8e8e8")
    ax.set_xticks(range(len(sections)), sections)
    ax.set_yticks(range(len(regions)), [label[r] for r in regions])
    top = np.nanmax(values) if np.isfinite(values).any() else 0
    for i in range(len(regions)):
        for j in range(len(sections)):
            if np.isfinite(values[i, j]):
                color = "white" if values[i, j] > top * 0.6 else "#222"
                text = f"{values[i, j]:.0f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(image, ax=ax, label=f"{high} 类占比（%）", shrink=0.8)
    ax.set_xlabel("国民经济行业门类（GB/T 4754-2017）")
    ax.set_title(f"各区域、各行业 {high} 类企业占比（%）")
    legend = "；".join(industry_label(s) for s in sections)
    parts = [
        inline_figure(fig, f"灰色：无企业或企业少于 {MIN_CELL} 户的组合，不予显示"),
        f'<p class="note">行业门类：{esc(legend)}。共 {blank} 个组合因企业少于 {MIN_CELL} 户'
        "未显示（样本过小既不可靠，也可能指向个别企业）。</p>",
    ]
    ranked = shown.sort_values(["high_risk_share", "enterprises"], ascending=False).head(10)
    if len(ranked):
        table = pd.DataFrame(
            {
                "区域": [label[r] for r in ranked["region_code"]],
                "行业": [industry_label(s) for s in ranked["industry_section"]],
                "企业数": ranked["enterprises"].map(num),
                f"{high} 类户数": ranked["high_risk"].map(num),
                f"{high} 类占比": ranked["high_risk_share"].map(pct),
            }
        )
        parts.append(f"<h3>风险最集中的区域行业组合（企业数不少于 {MIN_CELL} 户）</h3>")
        parts.append(html_table(table, text_columns=("区域", "行业")))
    by_region = frame.groupby("region_code")[["enterprises", "high_risk"]].sum()
    table = pd.DataFrame(
        {
            "区域": [label[r] for r in by_region.index],
            "企业数": by_region["enterprises"].map(num).to_numpy(),
            f"{high} 类户数": by_region["high_risk"].map(num).to_numpy(),
            f"{high} 类占比": (by_region["high_risk"] / by_region["enterprises"].clip(lower=1))
            .map(pct)
            .to_numpy(),
        }
    )
    parts.append("<h3>各区域汇总</h3>" + html_table(table, text_columns=("区域",)))
    return "".join(parts)


# ----------------------------------------------------------------------------- health


def health_section(inputs: MonthInputs) -> str:
    """模型健康: PSI of the score, the grades and the indicators; warnings; main factors."""
    folder = _health(inputs)
    health, psi, parts = inputs.health or {}, inputs.psi, []
    if first_month(inputs):
        parts.append(
            '<p class="warn">本月为首个分类月份，没有上月结果可比：评分与指标的稳定性（PSI）'
            "尚不能计算，模型健康状况要到下月才能判断。</p>"
        )
        parts.append(_importance_html(inputs))
        return "".join(parts)
    if psi is None or "psi" not in psi:
        parts.append(nodata("本月尚无模型稳定性（PSI）监测结果", folder.file("psi")))
    else:
        score, grades = score_psi(psi), grade_psi(psi)
        parts.append(
            f"<p>与上月相比，评分 PSI <b>{psi_text(score)}</b>"
            f"（{psi_status(score)}），等级分布 PSI <b>{psi_text(grades)}"
            f"</b>（{psi_status(grades)}）。判读：PSI &lt; {PSI_WATCH} 稳定；{PSI_WATCH}–"
            f"{PSI_ALERT} 需关注；≥ {PSI_ALERT} 显著变化，需复核或重新训练模型。</p>"
        )
        indicators = indicator_psi(psi)
        if health.get("indicators_missing") or indicators.empty:
            parts.append("<p>本月缺少上月或本月的指标数据，未计算各指标的 PSI。</p>")
        else:
            parts.append(_indicator_psi_html(indicators))
    if inputs.health is None:
        parts.append(nodata("本月尚无模型健康结论", folder.file("health")))
    else:
        if health.get("model_changed"):
            parts.append("<p>本月更换了评分模型版本，PSI 同时反映模型变化。</p>")
        if health.get("retrain_recommended"):
            parts.append('<div class="conclusion bad">建议复核并重新训练模型。</div>')
        messages = health_messages(inputs.health)
        if messages:
            listing = "".join(f"<li>{esc(m)}</li>" for m in messages[:MAX_MESSAGES])
            more = len(messages) - MAX_MESSAGES
            tail = f"<li>另有 {more} 条</li>" if more > 0 else ""
            parts.append(f"<h3>模型健康提示</h3><ul>{listing}{tail}</ul>")
        elif score_psi(psi) is None:  # nothing was measured: nothing can be called healthy
            parts.append('<p class="warn">本月未能计算评分 PSI，模型健康状况尚无法判断。</p>')
        else:
            parts.append('<p class="good">模型健康监测未发现需要处理的问题。</p>')
    parts.append(_importance_html(inputs))
    return "".join(parts)


def _indicator_psi_html(indicators: pd.DataFrame) -> str:
    watched = indicators[indicators["psi"] >= PSI_WATCH]
    alert = int((indicators["psi"] >= PSI_ALERT).sum())
    parts = [
        f"<p>指标 {len(indicators)} 个，其中需关注 {len(watched) - alert} 个、"
        f"显著变化 {alert} 个。</p>"
    ]
    top = indicators.head(15).iloc[::-1]
    fig, ax = new_figure(7.5, 0.28 * len(top) + 1.4)
    colors = [
        "#a8071a" if v >= PSI_ALERT else "#d48806" if v >= PSI_WATCH else "#389e0d"
        for v in top["psi"]
    ]
    ax.barh(top["label"], top["psi"], color=colors)
    for threshold in (PSI_WATCH, PSI_ALERT):
        ax.axvline(threshold, color="#595959", linestyle="--", linewidth=1)
    ax.set_xlabel("PSI（与上月相比）")
    ax.set_title("指标分布稳定性（PSI 最高的指标）")
    parts.append(inline_figure(fig, f"虚线为 {PSI_WATCH} 与 {PSI_ALERT} 两个预警阈值"))
    if len(watched):
        table = pd.DataFrame(
            {
                "指标": watched["label"],
                "PSI": watched["psi"].map(psi_text),
                "判读": watched["psi"].map(psi_status),
            }
        )
        parts.append(html_table(table, text_columns=("指标", "判读")))
    return "".join(parts)


def _importance_html(inputs: MonthInputs) -> str:
    frame = inputs.importance
    if frame is None or "mean_abs_shap" not in frame:
        return ""
    top = frame.sort_values("mean_abs_shap", ascending=False).head(10)
    table = pd.DataFrame(
        {
            "指标": top["name_zh"] if "name_zh" in top else top["indicator"],
            "维度": top["dimension"] if "dimension" in top else "",
            "平均影响（分）": top["mean_abs_shap"].map(lambda v: f"{v:.1f}"),
        }
    )
    return "<h3>影响评分最大的指标（全体企业平均）</h3>" + html_table(table, ("指标", "维度"))


# ----------------------------------------------------------------------------- warnings

#: Columns of warnings.csv that say which kind of warning a row is.
WARNING_TYPE_COLUMNS = ("warning", "warning_type", "type", "kind")


def warnings_section(inputs: MonthInputs) -> str:
    """预警: how many enterprises are warned, by type, grade and region — counts only."""
    frame = inputs.warnings
    health_count = len(health_messages(inputs.health))
    health_line = ""
    if inputs.health is not None:
        health_line = f"<p>模型健康提示 {health_count} 条（见“模型健康”）。</p>"
    if first_month(inputs):
        return (
            "<p>本月为首个分类月份，没有上月等级可比，不产生等级变动预警"
            "（等级下降两级及以上、新进入最高风险等级）。</p>"
        )
    if frame is None:
        path = _grades(inputs).file("warnings")
        return nodata("本月尚无企业风险预警", path) + health_line
    if frame.empty:
        return "<p>本月无风险预警企业（无等级下降两级及以上或新进入最高风险等级的企业）。</p>" + (
            health_line
        )
    parts = [
        f"<p>本月风险预警企业 <b>{num(len(frame))}</b> 户（等级下降两级及以上，或新进入最高风险"
        "等级）。预警名单属内部资料，由业务科室在工作台中核查；本报告只列数量。</p>"
    ]
    groups = []
    kind = next((c for c in WARNING_TYPE_COLUMNS if c in frame), None)
    if kind and frame[kind].nunique() <= 20:
        groups.append((kind, "预警类型", lambda v: v))
    if "grade" in frame:
        groups.append(("grade", "本月等级", lambda v: f"{v} 类"))
    if "region_code" in frame:
        labels = _region_labels(frame)
        groups.append(("region_code", "区域", lambda v: labels.get(str(v), str(v))))
    for column, title, label in groups:
        counts = frame[column].replace("", "未注明").value_counts().sort_index()
        table = pd.DataFrame(
            {title: [label(v) for v in counts.index], "预警户数": counts.map(num).to_numpy()}
        )
        parts.append(html_table(table, text_columns=(title,)))
    return "".join(parts) + health_line
