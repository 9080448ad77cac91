"""Cities unlike the demo (城市画像): place, industry mix, risk structure, history, tables.

The demo city hides what a real bureau's export changes: ten years of history, every
table present, one prefecture's counties, one industry mix, one way risk arises. A
:class:`CityProfile` changes each of them, so the pipeline can be tried on a matrix of
cities it was not tuned on (``tests/test_city_matrix.py``, ``bench/bench_city_matrix.py``):

- ``place``: another prefecture's county list, names and codes (:data:`PLACES`);
- ``industry_mix``: section weights multiplied (:data:`INDUSTRY_MIXES`);
- ``risk``: which attributes and events drive the true violation risk, how strongly, and
  how much of it is latent (:data:`RISKS`, a :class:`RiskStructure`);
- ``history_months``: the export holds only that many months of event history (the
  simulation still starts in 2014: enterprises have a past, the export does not show it);
- ``absent``: tables the bureau does not have (not written at all).

The default profile is the demo city, draw for draw: same seed, same bytes.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench import contract

from . import vocab

County = tuple[str, str, float, str, tuple[str, ...]]  # code, name, share, short, roads


@dataclass(frozen=True)
class Place:
    """A prefecture (地级市): its name, codes and counties as the generator writes them."""

    id: str
    name: str  # 平顶山市
    code: str  # GB/T 2260 of the prefecture, e.g. 410400
    province: str  # 河南省
    province_word: str  # 河南 (in company names)
    province_short: str  # 豫 (in law-enforcement certificate numbers)
    counties: tuple[County, ...]

    @property
    def city_word(self) -> str:
        """The prefecture without 市 (平顶山), as in company names."""
        return self.name.removesuffix("市")

    @property
    def city_bureau(self) -> str:
        """The city's market-regulation bureau."""
        return f"{self.name}市场监督管理局"

    @property
    def plan_code(self) -> str:
        """The four digits of plan and task numbers (SSJ-4104-…)."""
        return self.code[:4]

    def county_bureau(self, county_name: str) -> str:
        """A county's market-regulation bureau (districts carry the city's name)."""
        prefix = self.name + county_name if county_name.endswith("区") else county_name
        return prefix + "市场监督管理局"


PLACES: dict[str, Place] = {
    "pingdingshan": Place(
        "pingdingshan",
        vocab.PREFECTURE,
        vocab.PREFECTURE_CODE,
        vocab.PROVINCE,
        "河南",
        "豫",
        vocab.COUNTIES,
    ),
    # 通化市 (吉林省): another province, seven counties, a different size distribution.
    "tonghua": Place(
        "tonghua",
        "通化市",
        "220500",
        "吉林省",
        "吉林",
        "吉",
        (
            ("220502", "东昌区", 0.22, "东", ("新华大街", "建设大街", "东昌路", "滨江东路")),
            ("220503", "二道江区", 0.06, "二", ("二道江路", "桃园路", "东通化街")),
            ("220521", "通化县", 0.10, "通", ("兴林路", "人民路", "快大茂街")),
            ("220523", "辉南县", 0.11, "辉", ("朝阳路", "辉发路", "新华路")),
            ("220524", "柳河县", 0.13, "柳", ("新华街", "建设街", "柳河大街")),
            ("220581", "梅河口市", 0.25, "梅", ("新华街", "和平路", "解放路", "银河大街")),
            ("220582", "集安市", 0.13, "集", ("黎明街", "胜利路", "鸭绿江路")),
        ),
    ),
}

#: Industry mixes: a factor per GB/T 4754 section on the demo's weights (1 when unlisted).
INDUSTRY_MIXES: dict[str, dict[str, float]] = {
    "default": {},
    # a manufacturing and mining town: factories and quarries, fewer shops
    "industrial": {"B": 4.0, "C": 3.0, "D": 2.0, "E": 2.0, "F": 0.5, "H": 0.6, "O": 0.7},
    # a service city: trade, catering, business services, few factories
    "services": {"A": 0.3, "B": 0.2, "C": 0.4, "F": 1.4, "H": 1.6, "L": 1.8, "M": 1.8},
}


@dataclass(frozen=True)
class RiskStructure:
    """How the true monthly violation risk arises (see ``_truth/README.md``).

    The logit of an enterprise's monthly violation probability is the sum of an
    *attribute* part (entity type, industry, capital, age — what the register shows), a
    *persistent latent* part (frailty, bad actors, the legal representative's cluster —
    visible only through past events), an *event* part (its own recent violations and its
    peers' — self-excitation) and a *transient latent* part (a mean-reverting drift no
    data shows). The fields scale each.
    """

    id: str
    attribute_scale: float = 1.0  # entity-type and industry shifts (around their mean)
    capital_beta: float = -0.12  # per standardised log capital
    age_scale: float = 1.0  # the young-enterprise effect
    frailty_sigma: float = 0.75  # persistent latent risk
    bad_actor_share: float = 0.07
    bad_actor_shift: float = 2.5
    cluster_sigma: float = 0.45  # shared by enterprises of one legal representative
    beta_h: float = 0.7  # own recent violations (self-excitation)
    beta_net: float = 0.35  # peers' recent violations
    drift_sigma: float = 0.10  # transient latent risk (AR(1) innovations)
    intercept_shift: float = 0.0  # keeps the overall rate comparable across structures


RISKS: dict[str, RiskStructure] = {
    "default": RiskStructure("default"),
    # risk runs through events: past violations and peers' violations drive the future
    "events": RiskStructure(
        "events",
        attribute_scale=0.5,
        capital_beta=-0.05,
        frailty_sigma=0.5,
        bad_actor_share=0.04,
        beta_h=1.4,
        beta_net=0.8,
        intercept_shift=-0.1,
    ),
    # risk is written in the register: type, industry, capital and age, little latent
    "attributes": RiskStructure(
        "attributes",
        attribute_scale=2.5,
        capital_beta=-0.45,
        age_scale=2.5,
        frailty_sigma=0.35,
        bad_actor_share=0.02,
        cluster_sigma=0.2,
        beta_h=0.3,
        beta_net=0.1,
        intercept_shift=0.35,
    ),
    # most risk is latent and transient: weak signal in any data (a hard city)
    "latent": RiskStructure(
        "latent",
        attribute_scale=0.3,
        capital_beta=-0.03,
        age_scale=0.3,
        frailty_sigma=0.5,
        bad_actor_share=0.03,
        cluster_sigma=0.2,
        beta_h=0.2,
        beta_net=0.1,
        drift_sigma=0.35,
        intercept_shift=0.2,
    ),
}

#: Tables a bureau may lack (the register never: nothing is graded without it).
OPTIONAL_TABLES = tuple(t for t in contract.TABLES if t != "enterprises")
#: Tables kept whole when history is cut (a state, not a history).
_STATE_TABLES = ("enterprises", "relations", "inspectors", "conflicts")


@dataclass(frozen=True)
class CityProfile:
    """What makes a city unlike the demo (all defaults: the demo city)."""

    place: str = "pingdingshan"
    industry_mix: str = "default"
    risk: str = "default"
    history_months: int | None = None  # event history in the export (None: since 2014)
    absent: tuple[str, ...] = field(default=())  # tables not written

    def __post_init__(self):
        object.__setattr__(self, "absent", tuple(sorted(set(self.absent))))
        for name, value, allowed in (
            ("place", self.place, PLACES),
            ("industry_mix", self.industry_mix, INDUSTRY_MIXES),
            ("risk", self.risk, RISKS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} {value!r}: allowed {', '.join(allowed)}")
        unknown = [t for t in self.absent if t not in OPTIONAL_TABLES]
        if unknown:
            raise ValueError(
                f"absent table(s) {', '.join(unknown)}: allowed {', '.join(OPTIONAL_TABLES)}"
            )
        if self.history_months is not None and self.history_months < 1:
            raise ValueError("history_months must be at least 1")

    @property
    def is_default(self) -> bool:
        """True for the demo city."""
        return self == CityProfile()

    @property
    def where(self) -> Place:
        """The prefecture."""
        return PLACES[self.place]

    @property
    def risk_structure(self) -> RiskStructure:
        """The risk structure."""
        return RISKS[self.risk]

    def section_factors(self) -> np.ndarray:
        """The industry mix as one factor per simulated industry."""
        mix = INDUSTRY_MIXES[self.industry_mix]
        return np.array([mix.get(i.code[0], 1.0) for i in vocab.INDUSTRIES])

    def to_dict(self) -> dict:
        """Plain data (``_truth/generator.json``)."""
        out = asdict(self)
        out["absent"] = list(self.absent)
        return out

    @classmethod
    def from_dict(cls, data: dict | None) -> CityProfile:
        """The profile written by :meth:`to_dict` (None: the demo city)."""
        if not data:
            return cls()
        return cls(**{**data, "absent": tuple(data.get("absent") or ())})

    def describe(self) -> str:
        """One line for people."""
        parts = [self.where.name, f"industry mix {self.industry_mix}", f"risk {self.risk}"]
        history = self.history_months
        parts.append(f"{history} months of history" if history else "history since 2014")
        if self.absent:
            parts.append("without " + ", ".join(self.absent))
        return "; ".join(parts)


def _day(value: str) -> pa.Scalar:
    return pa.scalar(datetime.date.fromisoformat(value), type=pa.date32())


def cut_history(tables: dict[str, pa.Table], first_day: str) -> dict[str, pa.Table]:
    """The tables as an export holding history from ``first_day`` on only.

    Event rows dated before ``first_day`` are dropped; annual reports are kept when their
    deadline (June 30 after the report year) falls on or after it; licences when still
    valid then. The register, relations, inspectors and conflicts are states, kept whole.
    """
    start = _day(first_day)
    out = {}
    for name, table in tables.items():
        if name in _STATE_TABLES:
            out[name] = table
            continue
        if name == "annual_reports":
            year = int(first_day[:4])
            due_on_or_after = year if first_day[5:] <= "06-30" else year + 1
            keep = pc.greater_equal(table.column("report_year"), due_on_or_after - 1)
        elif name == "licenses":
            expires = table.column("expires_on")
            keep = pc.or_(pc.is_null(expires), pc.greater_equal(expires, start))
        else:
            date = next(c.name for c in contract.TABLES[name].columns if c.kind == "date")
            keep = pc.greater_equal(table.column(date), start)
        out[name] = table.filter(pc.fill_null(keep, False))
    return out
