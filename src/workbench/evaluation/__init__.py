"""Evaluation (抽查效果评估): what a plan's inspections found, and what that teaches.

- :mod:`.calendar` — the Chinese working-day calendar (工作日历) deadlines are counted on;
- :mod:`.reconciliation` — results read and matched with the task list (对账), and the
  20-working-day publication deadlines (公示时限);
- :mod:`.results_notice` — the public results notice (抽查结果公示, 一公开), whitelist only;
- :mod:`.feedback` — stored results handed to the next ingest (回流数据);
- :mod:`.estimators` — hit rates, Horvitz–Thompson estimates, lift and oracle;
- :mod:`.weighting` — design weights 1/π for unbiased rates and training.
"""
