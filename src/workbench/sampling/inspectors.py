"""The inspector draw (随机选派执法检查人员): random, reproducible, within every rule.

For each task, in draw order, the candidates are the inspectors of the register
(执法检查人员名录库) who are

- active (在岗), in one of the item's departments (a plan department matches an
  inspector whose department equals it or starts with it, so ``叶县市场监督管理局``
  takes every unit of that bureau), qualified for the item (``items`` lists it) and
  covering the enterprise's region (the same GB/T 2260 code, or a prefecture- or
  province-level code that contains it);
- not declared in conflict with the enterprise (回避, the ``conflicts`` table);
- not among the inspectors of the enterprise's most recent earlier task (the inspections
  table has no inspector column, so earlier months' task lists are the record);
- below the plan's workload limit (``inspectors.max_tasks_each`` tasks in this plan).

Among its item's departments a task goes to one with at least ``per_task`` such
inspectors, the closest to the enterprise (county before prefecture before province,
then plan order); only when none has enough does it go to the closest at all, and the
capacity check below says so. A task its department cannot staff — fewer than
``per_task`` candidates left after 回避, the last inspectors and the workload limit — goes
to the next of those departments, in the same order, that can (another bureau covering
the enterprise sends the inspectors); only when none can is the plan refused. It gets the
``per_task`` candidates with the lowest current workload, ties broken by the key
``splitmix64(t XOR i)``, where ``t`` and ``i`` are the first 8 bytes (big-endian) of
``SHA-256("{seed}|{plan_id}|{month}|task|{task_id}")`` and of
``SHA-256("{seed}|{plan_id}|{month}|inspector|{inspector_id}")``, and splitmix64 is the
standard 64-bit finaliser (add 0x9E3779B97F4A7C15; xor-shift 30, × 0xBF58476D1CE4E5B9;
xor-shift 27, × 0x94D049BB133111EB; xor-shift 31; all modulo 2⁶⁴). Lowest workload first
keeps the load even (均衡); the hash keeps who gets which task random and replayable.

A plan that cannot be staffed is refused with every unmet constraint and its size, e.g.
``平顶山市市场监督管理局食品安全监管科 · 食品经营许可事项检查: 3 qualified inspectors for
120 tasks at most 20 each``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.sampling.plan import Plan

MASK64 = (1 << 64) - 1


class InfeasiblePlan(WorkbenchError, ValueError):
    """Inspectors cannot be assigned: the message names each constraint and the shortfall."""


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays (wrapping arithmetic, no warnings)."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash64(texts) -> np.ndarray:
    """First 8 bytes (big-endian) of SHA-256 of each text, as uint64."""
    raw = b"".join(hashlib.sha256(t.encode()).digest()[:8] for t in texts)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def covers(inspector_region: str, enterprise_region: str) -> int:
    """How closely an inspector's division covers an enterprise's (0 = not at all).

    3: the same code; 2: a prefecture-level code (``4104xx`` ⊂ ``410400``); 1: a
    province-level code (``41xxxx`` ⊂ ``410000``).
    """
    a, e = str(inspector_region), str(enterprise_region)
    if a == e:
        return 3
    if a.endswith("0000") and e[:2] == a[:2]:
        return 1
    if a.endswith("00") and e[:4] == a[:4]:
        return 2
    return 0


def read_register(inspectors: pd.DataFrame) -> pd.DataFrame:
    """The inspector register with ``qualified`` (a set of items) and boolean ``active``."""
    reg = inspectors.reset_index(drop=True).copy()
    reg["active"] = reg["active"].fillna(False).astype(bool)
    items = reg["items"] if "items" in reg else pd.Series("", index=reg.index)
    reg["qualified"] = [
        frozenset(s.strip() for s in str(v).split(";") if s.strip()) if pd.notna(v) else frozenset()
        for v in items
    ]
    return reg


def last_inspectors(earlier_tasks: pd.DataFrame | None) -> dict[str, tuple[str, ...]]:
    """Each enterprise's inspectors on its most recent earlier task (by window, then task)."""
    if earlier_tasks is None or not len(earlier_tasks):
        return {}
    t = earlier_tasks[["uscc", "window_end", "task_id", "inspectors"]].copy()
    t["window_end"] = pd.to_datetime(t["window_end"])
    t = t.sort_values(["uscc", "window_end", "task_id"]).drop_duplicates("uscc", keep="last")
    return {
        u: tuple(x for x in str(ids).split(";") if x)
        for u, ids in zip(t["uscc"], t["inspectors"], strict=True)
        if pd.notna(ids)
    }


def departments_without_inspectors(inspectors: pd.DataFrame, plan: Plan) -> list[str]:
    """Plan departments that no inspector of the register belongs to.

    A typo, or a unit without staff: not an error by itself (other departments may cover
    its tasks), but worth a warning in the draw record.
    """
    names = inspectors["department"].astype(str).tolist()
    return [
        dept for dept in plan.departments if not any(d == dept or d.startswith(dept) for d in names)
    ]


def assign_inspectors(
    tasks: pd.DataFrame,
    inspectors: pd.DataFrame,
    plan: Plan,
    month: str,
    conflicts: pd.DataFrame | None = None,
    earlier_tasks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Department and inspectors for each task (``task_id, uscc, region_code, item``).

    Returns ``tasks`` with ``department``, ``inspectors`` (``;``-joined ids) and
    ``inspector_names``, in the same row order (tasks are staffed in that order).

    Raises:
        InfeasiblePlan: listing every department/item whose qualified inspectors cannot
            cover its tasks, a region no department covers, or the first task left short.
    """
    reg = read_register(inspectors)
    k, limit = plan.inspectors_per_task, plan.max_tasks_per_inspector
    ids = reg["inspector_id"].astype(str).to_numpy()
    position = {i: p for p, i in enumerate(ids)}
    dept_names = reg["department"].astype(str).to_numpy()
    regions = reg["region_code"].astype(str).to_numpy()
    problems = []
    members = {
        dept: np.array([d == dept or d.startswith(dept) for d in dept_names], dtype=bool)
        for dept in plan.departments
    }
    active = reg["active"].to_numpy()
    pools: dict[tuple[str, str], np.ndarray] = {}
    for item in plan.items:
        qualified = np.array([item.name in q for q in reg["qualified"]], dtype=bool)
        for dept in item.departments:
            pools[(dept, item.name)] = np.flatnonzero(members[dept] & active & qualified)

    # department per (item, region): the closest coverage, then plan order
    task_regions = tasks["region_code"].astype(str).to_numpy()
    task_items = tasks["item"].astype(str).to_numpy()
    # every department that can serve (item, region), best first: the first is the task's
    # department; the others take a task the first cannot staff (回避, workload)
    ranked: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = {}
    for item_name, region in dict.fromkeys(zip(task_items, task_regions, strict=True)):
        item = next(it for it in plan.items if it.name == item_name)
        serving_depts = []
        for order, dept in enumerate(item.departments):
            pool = pools[(dept, item_name)]
            level = np.array([covers(regions[p], region) for p in pool], dtype=int)
            serving = pool[level > 0]
            if len(serving):
                rank = (len(serving) >= k, int(level.max()))
                serving_depts.append((rank, -order, dept, serving))
        serving_depts.sort(key=lambda d: (d[0], d[1]), reverse=True)
        ranked[(item_name, region)] = [(d[2], d[3]) for d in serving_depts]
    choice = {key: (depts[0] if depts else None) for key, depts in ranked.items()}
    uncovered = defaultdict(int)
    for key in zip(task_items, task_regions, strict=True):
        if choice[key] is None:
            uncovered[key] += 1
    for (item_name, region), count in sorted(uncovered.items()):
        item = next(it for it in plan.items if it.name == item_name)
        problems.append(
            f"{item_name}: no department of the plan ({', '.join(item.departments)}) has an "
            f"active inspector qualified for it covering region {region} ({count} tasks)"
        )
    if problems:
        raise InfeasiblePlan("; ".join(problems))

    # capacity per department and item, then per department over all its items
    task_dept = np.array(
        [choice[key][0] for key in zip(task_items, task_regions, strict=True)], dtype=object
    )
    groups = pd.DataFrame({"dept": task_dept, "item": task_items}).value_counts(sort=False)
    serving: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (item_name, _), picked in choice.items():
        serving[(picked[0], item_name)].update(picked[1].tolist())
    for (dept, item_name), count in sorted(groups.items()):
        q = len(serving[(dept, item_name)])
        if q < k:
            problems.append(
                f"{dept} · {item_name}: {q} qualified active inspector(s) for {count} tasks, "
                f"each task needs {k} (short by {k - q})"
            )
        elif q * limit < count * k:
            problems.append(
                f"{dept} · {item_name}: {q} qualified inspectors for {count} tasks at most "
                f"{limit} each (need {count * k} assignments, capacity {q * limit}, "
                f"short by {count * k - q * limit})"
            )
    for dept in dict.fromkeys(task_dept):
        count = int((task_dept == dept).sum())
        staff = set().union(*(v for (d, _), v in serving.items() if d == dept))
        if len(staff) * limit < count * k and len({i for d, i in groups.index if d == dept}) > 1:
            problems.append(
                f"{dept}: {len(staff)} qualified inspectors for {count} tasks over all items at "
                f"most {limit} each (need {count * k} assignments, capacity "
                f"{len(staff) * limit}, short by {count * k - len(staff) * limit})"
            )
    if problems:
        raise InfeasiblePlan("; ".join(problems))

    conflict_of: dict[str, set[int]] = defaultdict(set)
    if conflicts is not None and len(conflicts):
        for insp, u in zip(
            conflicts["inspector_id"].astype(str), conflicts["uscc"].astype(str), strict=True
        ):
            if insp in position:
                conflict_of[u].add(position[insp])
    last_of = {
        u: {position[i] for i in got if i in position}
        for u, got in last_inspectors(earlier_tasks).items()
    }

    prefix = f"{plan.seed}|{plan.id}|{month}|"
    inspector_key = hash64(prefix + "inspector|" + i for i in ids)
    task_key = hash64(prefix + "task|" + str(t) for t in tasks["task_id"])
    load = np.zeros(len(reg), dtype=np.int64)
    chosen_ids, chosen_names = [], []
    names = reg["name"].astype(str).to_numpy()
    uscc = tasks["uscc"].astype(str).to_numpy()
    for row in range(len(tasks)):
        key = (task_items[row], task_regions[row])
        barred = conflict_of.get(uscc[row], set()) | last_of.get(uscc[row], set())
        staffed = None
        for dept, pool in ranked[key]:  # the task's department first, then the others
            cand = pool[~np.isin(pool, list(barred))] if barred else pool
            cand = cand[load[cand] < limit]
            if len(cand) >= k:
                staffed = dept, cand
                break
        if staffed is None:
            dept, pool = choice[key]
            others = len(ranked[key]) - 1
            also = f"; none of the {others} other departments covering it can staff it either"
            raise InfeasiblePlan(
                _short_message(tasks.iloc[row], dept, pool, conflict_of, last_of, load, limit, k)
                + (also if others else "")
            )
        task_dept[row], cand = staffed
        mixed = splitmix64(np.bitwise_xor(inspector_key[cand], task_key[row]))
        pick = cand[np.lexsort((mixed, load[cand]))[:k]]
        load[pick] += 1
        chosen_ids.append(";".join(ids[pick]))
        chosen_names.append(";".join(names[pick]))
    out = tasks.copy()
    out["department"] = pd.array(task_dept.astype(str) if len(task_dept) else [], dtype="string")
    out["inspectors"] = pd.array(chosen_ids, dtype="string")
    out["inspector_names"] = pd.array(chosen_names, dtype="string")
    return out


def _short_message(task, dept, pool, conflict_of, last_of, load, limit, k) -> str:
    u = str(task["uscc"])
    conflicted = len(set(pool.tolist()) & conflict_of.get(u, set()))
    last = len(set(pool.tolist()) & last_of.get(u, set()) - conflict_of.get(u, set()))
    full = int((load[pool] >= limit).sum())
    left = len(pool) - len(
        set(pool.tolist()) & (conflict_of.get(u, set()) | last_of.get(u, set()))
        | {p for p in pool.tolist() if load[p] >= limit}
    )
    return (
        f"task {task['task_id']} ({u}, {task['item']}): {dept} has {len(pool)} qualified "
        f"inspectors, {conflicted} declared in conflict (回避), {last} who last inspected it, "
        f"{full} at the workload limit of {limit}; {left} left, {k} needed (short by {k - left})"
    )
