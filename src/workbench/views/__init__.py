"""Presentation in one place: the notebooks and reports draw through these.

Computation stays with its stage's package; these modules only turn its results into
charts, tables and Chinese headline text (CJK fonts enforced), one module per stage:

- :mod:`.style` — CJK font, error bars, escaped notebook tables (``escaped_table``),
  notebook → HTML rendering;
- :mod:`.quality` — the data-quality report of the ingest (数据质量报告);
- :mod:`.indicators` — IV and distribution charts, the catalog table (指标体系);
- :mod:`.training` — what reviewers read about a training run (模型评审材料);
- :mod:`.grading` — grade distribution, importance, warnings, region × industry heatmap;
- :mod:`.sampling` — the plan and draw of a sampling month (抽查计划);
- :mod:`.evaluation` — a plan's evaluation charts and headline (抽查效果评估).
"""
