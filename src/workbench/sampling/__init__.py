"""Double-random inspection by grade (双随机、一公开): plans, draws, inspectors, notices.

Modules: :mod:`.plan` (YAML plans and their checks), :mod:`.population` (the sampling
frame: filters, exclusions, triggers), :mod:`.draw` (the replayable stratified draw),
:mod:`.budget` (ratios for a budget), :mod:`.inspectors` (the inspector draw),
:mod:`.notice` (the public notice from a whitelist). The stage itself (files in and
out, replay) is :mod:`workbench.stages.sample`.
"""

from workbench.sampling.budget import BudgetError, BudgetProposal, propose_ratios
from workbench.sampling.inspectors import InfeasiblePlan, assign_inspectors
from workbench.sampling.notice import NOTICE_COLUMNS, build_notice
from workbench.sampling.plan import Plan, PlanError, load_plan, packaged_plans

__all__ = [
    "NOTICE_COLUMNS",
    "BudgetError",
    "BudgetProposal",
    "InfeasiblePlan",
    "Plan",
    "PlanError",
    "assign_inspectors",
    "build_notice",
    "load_plan",
    "packaged_plans",
    "propose_ratios",
]
