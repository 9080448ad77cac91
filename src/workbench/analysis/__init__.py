"""Analysts' tools (分析工具): scratch work that no stage reads.

- :mod:`.indicator_lab` — try an indicator as a YAML snippet on a training panel, see its
  binning, stability and correlation, retrain and compare with the champion.
"""
