"""The catalog of outputs (输出目录): one typed folder per kind, owning its file names.

Every stage output lives in a folder of one kind (an ingest, a month's grades, a plan's
draw …). The kind knows its files, reads them and lists its months; no other module
spells another stage's file names. Listing skips the temporary folders the atomic writer
builds (``.<name>.tmp-…``) and anything that is not a complete output, so an abandoned
run is never taken for a month or a plan. "Latest" means the newest snapshot recorded
*inside* an output, never the alphabetically last folder name.

Typical use::

    ws = workspace.current()
    grades = ws.grades.at("2026-09")          # GradeFolder
    frame = grades.read_grades()
    ws.ingest.latest()                          # IngestFolder with the newest snapshot
    ws.plans.in_month("2026-09")                # PlanFolders of that month
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

import pandas as pd

from workbench.errors import NotReadyError, ParameterError
from workbench.workspace.csvsafe import restore

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_month(month: str, what: str = "month") -> str:
    """``month`` if it is ``YYYY-MM``; a clear ParameterError otherwise."""
    if not isinstance(month, str) or not MONTH.match(month):
        raise ParameterError(f"{what} must be YYYY-MM (e.g. 2026-09), got {month!r}")
    return month


def check_day(day: str, what: str = "date") -> str:
    """``day`` if it is a real date written ``YYYY-MM-DD``; a clear ParameterError otherwise.

    The one parser of every date a person types (``--as-of``, ``--validation-from`` …):
    "July 2025", "2025", "31/07/2025" and "2025-02-30" are refused, never guessed at.
    """
    import datetime

    try:
        if isinstance(day, str) and DAY.match(day):
            datetime.date.fromisoformat(day)
            return day
    except ValueError:
        pass
    raise ParameterError(f"{what} must be a date YYYY-MM-DD (e.g. 2026-09-30), got {day!r}")


def visible(path: Path) -> bool:
    """False for hidden and temporary entries (``.grades.tmp-123-…``, ``.ipynb_checkpoints``)."""
    return not path.name.startswith(".")


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Folder:
    """One output folder of a known kind; ``MARKER`` is the file that makes it complete."""

    path: Path

    KIND: ClassVar[str] = ""
    MARKER: ClassVar[str] = ""
    FILES: ClassVar[dict[str, str]] = {}

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))

    def file(self, name: str) -> Path:
        """The path of one of this kind's files, by its logical name."""
        try:
            return self.path / self.FILES[name]
        except KeyError:
            raise KeyError(
                f"{type(self).__name__} has no file {name!r}; files: {', '.join(self.FILES)}"
            ) from None

    def exists(self) -> bool:
        """True when the folder holds a complete output (its marker file)."""
        return (self.path / self.MARKER).is_file()

    def require(self, hint: str = "") -> Folder:
        """Self when complete; otherwise a NotReadyError saying what to run."""
        if not self.exists():
            raise NotReadyError(
                f"{self.path} is not a {self.KIND} output (no {self.MARKER})"
                + (f"; {hint}" if hint else "")
            )
        return self

    def read_json(self, name: str) -> dict:
        """A JSON file of this folder as a dict."""
        return _read_json(self.file(name))

    def read_csv(self, name: str, **kwargs) -> pd.DataFrame:
        """A CSV file of this folder (written with a BOM for Excel, formulas defused)."""
        return restore(pd.read_csv(self.file(name), encoding="utf-8-sig", **kwargs))

    def read_parquet(self, name: str, **kwargs) -> pd.DataFrame:
        """A Parquet file of this folder."""
        return pd.read_parquet(self.file(name), **kwargs)

    def maybe_json(self, name: str) -> dict | None:
        """The JSON file, or None when it is absent."""
        path = self.file(name)
        return _read_json(path) if path.is_file() else None

    def maybe_csv(self, name: str, **kwargs) -> pd.DataFrame | None:
        """The CSV file, or None when it is absent or empty."""
        path = self.file(name)
        if not path.is_file():
            return None
        try:
            return restore(pd.read_csv(path, encoding="utf-8-sig", **kwargs))
        except pd.errors.EmptyDataError:
            return None


F = TypeVar("F", bound=Folder)


@dataclass(frozen=True)
class Collection(Generic[F]):
    """The folders of one kind under a root, keyed by name (a month, a family, a plan)."""

    root: Path
    kind: type[F]

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    def at(self, *names: str) -> F:
        """The folder for ``names`` (it need not exist yet: stages write there)."""
        return self.kind(self.root.joinpath(*names))

    def names(self) -> list[str]:
        """Names of the complete folders directly under the root, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and visible(p) and self.kind(p).exists()
        )

    def all(self) -> list[F]:
        """Every complete folder directly under the root."""
        return [self.at(name) for name in self.names()]


@dataclass(frozen=True)
class MonthlyCollection(Collection[F]):
    """Folders named ``YYYY-MM``: grades, indicators, health, feedback, reports."""

    def months(self) -> list[str]:
        """The months with a complete output, oldest first."""
        return [name for name in self.names() if MONTH.match(name)]

    def latest_month(self) -> str | None:
        """The newest month with a complete output, or None."""
        months = self.months()
        return months[-1] if months else None

    def previous_month(self, month: str) -> str | None:
        """The newest complete month strictly before ``month``, or None."""
        earlier = [m for m in self.months() if m < month]
        return earlier[-1] if earlier else None


# --------------------------------------------------------------------------- the kinds


class IngestFolder(Folder):
    """``data/ingest/<name>/``: validated tables, quarantined rows, the quality report."""

    KIND = "ingest"
    MARKER = "quality.json"
    FILES = {"quality": "quality.json", "tables": "tables", "quarantine": "quarantine"}

    @property
    def tables(self) -> Path:
        """The folder of validated tables (``<table>.parquet``)."""
        return self.file("tables")

    @property
    def quarantine(self) -> Path:
        """The folder of quarantined rows (``<table>.csv``)."""
        return self.file("quarantine")

    def table_path(self, table: str) -> Path:
        """The Parquet file of one validated table."""
        return self.tables / f"{table}.parquet"

    def has_table(self, table: str) -> bool:
        """True when the ingest accepted that table (optional tables may be absent)."""
        return self.table_path(table).is_file()

    def read_table(self, table: str, **kwargs) -> pd.DataFrame:
        """One validated table."""
        return pd.read_parquet(self.table_path(table), **kwargs)

    def quality(self) -> dict:
        """The data-quality report."""
        return self.read_json("quality")

    @property
    def snapshot(self) -> str:
        """The data's snapshot date (``YYYY-MM-DD``) recorded in the quality report."""
        return str(self.quality()["snapshot"])

    @property
    def source(self) -> Path:
        """The export folder this ingest read."""
        return Path(self.quality()["data_dir"])


class IngestCollection(Collection[IngestFolder]):
    """All ingests; ``latest`` is the one whose recorded snapshot is newest."""

    def latest(self) -> IngestFolder | None:
        """The ingest with the newest snapshot inside (ties: the most recently written)."""
        found = self.all()
        if not found:
            return None
        return max(found, key=lambda f: (f.snapshot, f.file("quality").stat().st_mtime_ns))

    def require_latest(self) -> IngestFolder:
        """The latest ingest, or a NotReadyError saying to run ``workbench ingest``."""
        latest = self.latest()
        if latest is None:
            raise NotReadyError(
                f"no ingest under {self.root}; run `workbench ingest --data EXPORT_FOLDER` first"
            )
        return latest

    def for_month(self, month: str) -> IngestFolder | None:
        """The ingest for ``month``: its own folder when complete, else a later one.

        A later export also holds the month: the latest ingest whose data reach the
        month's end stands in for a month that was not ingested on its own.
        """
        folder = self.at(month)
        if folder.exists():
            return folder
        end = str((pd.Period(month, "M").end_time).date())
        covering = [f for f in self.all() if f.snapshot >= end]
        if not covering:
            return None
        return max(covering, key=lambda f: (f.snapshot, f.file("quality").stat().st_mtime_ns))


class IndicatorsFolder(Folder):
    """``data/indicators/<YYYY-MM>/``: the indicator matrix as of a snapshot."""

    KIND = "indicators"
    MARKER = "indicators.parquet"
    FILES = {
        "indicators": "indicators.parquet",
        "catalog": "catalog.json",
        "signal": "signal.csv",
        "summary": "summary.json",
    }

    def summary(self) -> dict:
        """The stage summary (snapshot, counts, signal snapshot)."""
        return self.read_json("summary")

    def read_indicators(self, **kwargs) -> pd.DataFrame:
        """One row per active enterprise."""
        return self.read_parquet("indicators", **kwargs)

    def indicator_names(self) -> dict[str, str]:
        """Indicator id → Chinese name, from the resolved catalog (empty when absent)."""
        catalog = self.maybe_json("catalog") or {}
        return {i["id"]: i.get("name", i["id"]) for i in catalog.get("indicators", [])}


class PanelFolder(Folder):
    """``data/panel/<name>/``: indicators + label per enterprise and month-end snapshot."""

    KIND = "panel"
    MARKER = "panel.parquet"
    FILES = {"panel": "panel.parquet", "design": "design.json"}

    def read_panel(self) -> pd.DataFrame:
        """The panel rows."""
        return self.read_parquet("panel")


class ModelFolder(Folder):
    """``data/models/<family>/``: the trained model, its run and its evidence."""

    KIND = "model"
    MARKER = "run.json"
    FILES = {
        "model": "model.pkl",
        "run": "run.json",
        "validation": "validation.parquet",
        "evidence": "evidence",
    }

    def run(self) -> dict:
        """The run summary (MLflow run id, registered version, metrics)."""
        return self.read_json("run")

    @property
    def evidence(self) -> EvidenceFolder:
        """The model card, tables and charts."""
        return EvidenceFolder(self.file("evidence"))


class EvidenceFolder(Folder):
    """``data/models/<family>/evidence/``: what a reviewer reads of one training."""

    KIND = "evidence"
    MARKER = "model_card.md"
    FILES = {
        "model_card": "model_card.md",
        "iv_table": "iv_table.csv",
        "points_table": "points_table.csv",
        "grade_table": "grade_table.csv",
        "binning": "binning",
        "roc": "roc.png",
        "score_distribution": "score_distribution.png",
        "grade_bad_rate": "grade_bad_rate.png",
    }

    def binning_table(self, feature: str) -> Path:
        """The binning table of one indicator."""
        return self.file("binning") / f"{feature}.csv"


class GradeFolder(Folder):
    """``data/grades/<YYYY-MM>/``: internal, signed, owner-only grades of one month."""

    KIND = "grades"
    MARKER = "summary.json"
    FILES = {
        "grades": "grades.parquet",
        "grades_csv": "grades.csv",
        "distribution": "distribution.csv",
        "overrides": "overrides.csv",
        "migration": "migration.csv",
        "warnings": "warnings.csv",
        "region_industry": "region_industry.csv",
        "importance": "importance.csv",
        "summary": "summary.json",
        "manifest": "manifest.json",
    }

    @property
    def month(self) -> str:
        """The folder's month (its name)."""
        return self.path.name

    def exists(self) -> bool:
        """A grade folder is complete when it has its grades and summary."""
        return super().exists() and self.file("grades").is_file()

    def summary(self) -> dict:
        """The month's grading summary."""
        return self.read_json("summary")

    def read_grades(self, **kwargs) -> pd.DataFrame:
        """The grade file (confidential)."""
        return self.read_parquet("grades", **kwargs)


class ExtractFolder(Folder):
    """``data/sharing/<YYYY-MM>/<department>/``: one department's signed extract (internal).

    Written by :mod:`workbench.sharing`: the enterprises of the department's domain with
    the columns it may receive, a manifest of every file signed with the bureau's Ed25519
    key (``manifest.sig``), and the bureau's public key to check it with.
    """

    KIND = "department extract"
    MARKER = "manifest.json"
    FILES = {
        "csv": "extract.csv",
        "parquet": "extract.parquet",
        "readme": "README.txt",
        "public_key": "bureau_public_key.pem",
        "manifest": "manifest.json",
        "signature": "manifest.sig",
    }

    def exists(self) -> bool:
        """An extract is complete when it has its manifest and its signature."""
        return super().exists() and self.file("signature").is_file()


class PlanFolder(Folder):
    """``data/sampling/<YYYY-MM>/<plan>/``: one drawn plan (internal) and its public notice."""

    KIND = "sampling plan"
    MARKER = "draw.json"
    FILES = {
        "tasks": "tasks.parquet",
        "tasks_csv": "tasks.csv",
        "strata": "strata.csv",
        "budget": "budget.csv",
        "draw": "draw.json",
        "public": "public",
        "notice_csv": "public/notice.csv",
        "notice_html": "public/notice.html",
    }
    #: files the replay compares byte for byte, in the order they are checked
    REPLAYED = ("tasks_csv", "tasks", "strata", "budget", "draw", "notice_csv", "notice_html")

    def exists(self) -> bool:
        """A plan folder is complete when it has its draw record and tasks."""
        return super().exists() and self.file("tasks").is_file()

    @property
    def month(self) -> str:
        """The plan's month (the parent folder's name)."""
        return self.path.parent.name

    @property
    def plan_id(self) -> str:
        """The plan's id (the folder's name)."""
        return self.path.name

    def draw(self) -> dict:
        """The draw record (hashes, seed: internal)."""
        return self.read_json("draw")

    def read_tasks(self, **kwargs) -> pd.DataFrame:
        """The task list (internal: carries grades and π)."""
        return self.read_parquet("tasks", **kwargs)

    def read_strata(self) -> pd.DataFrame | None:
        """The per-stratum design table, or None."""
        return self.maybe_csv("strata", dtype={"stratum": str})


class PlanCollection(Collection[PlanFolder]):
    """Plans by month: ``data/sampling/<YYYY-MM>/<plan>/``."""

    def months(self) -> list[str]:
        """Months with at least one complete plan, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and MONTH.match(p.name) and self.in_month(p.name)
        )

    def in_month(self, month: str) -> list[PlanFolder]:
        """The complete plans drawn for ``month``, oldest draw first."""
        folder = self.root / month
        if not folder.is_dir():
            return []
        plans = [PlanFolder(p) for p in folder.iterdir() if p.is_dir() and visible(p)]
        plans = [p for p in plans if p.exists()]
        return sorted(plans, key=lambda p: (p.file("draw").stat().st_mtime_ns, p.plan_id))

    def all(self) -> list[PlanFolder]:
        """Every complete plan of every month."""
        return [plan for month in self.months() for plan in self.in_month(month)]


class ResultsFolder(Folder):
    """``data/results/<YYYY-MM>/<plan>/``: a plan's inspection results as received."""

    KIND = "results"
    MARKER = "inspections.parquet"
    FILES = {"inspections": "inspections.parquet"}

    def results_file(self) -> Path | None:
        """The results file found here (any format the loader reads), or None."""
        if not self.path.is_dir():
            return None
        for suffix in (".parquet", ".csv", ".xlsx"):
            candidate = self.path / f"inspections{suffix}"
            if candidate.is_file():
                return candidate
        return None


class EvaluationFolder(Folder):
    """``data/evaluation/<YYYY-MM>/<plan>/``: how well one plan worked; the results notice."""

    KIND = "evaluation"
    MARKER = "summary.json"
    FILES = {
        "summary": "summary.json",
        "per_grade": "per_grade.csv",
        "per_stratum": "per_stratum.csv",
        "reconciliation": "reconciliation.json",
        "reconciliation_rows": "reconciliation.csv",
        "quarantine": "quarantine.csv",
        "deadlines": "deadlines.csv",
        "training_sample": "training_sample.parquet",
        "results": "results.parquet",
        "charts": "charts",
        "public": "public",
        "notice_csv": "public/results_notice.csv",
        "notice_html": "public/results_notice.html",
    }

    @property
    def month(self) -> str:
        """The plan's month."""
        return self.path.parent.name

    @property
    def plan_id(self) -> str:
        """The plan's id."""
        return self.path.name

    def summary(self) -> dict:
        """The evaluation summary."""
        return self.read_json("summary")


class EvaluationCollection(PlanCollection):
    """Evaluations by month: ``data/evaluation/<YYYY-MM>/<plan>/``."""

    def in_month(self, month: str) -> list[EvaluationFolder]:  # type: ignore[override]
        """The complete evaluations of ``month``'s plans, by plan id."""
        folder = self.root / month
        if not folder.is_dir():
            return []
        found = [EvaluationFolder(p) for p in folder.iterdir() if p.is_dir() and visible(p)]
        return sorted((f for f in found if f.exists()), key=lambda f: f.plan_id)

    def result_files(self) -> list[Path]:
        """Every evaluation's stored results (``results.parquet``), temporary folders never."""
        if not self.root.is_dir():
            return []
        name = EvaluationFolder.FILES["results"]
        return sorted(
            plan / name
            for month in self.root.iterdir()
            if month.is_dir() and MONTH.match(month.name)
            for plan in month.iterdir()
            if plan.is_dir() and visible(plan) and (plan / name).is_file()
        )


class FeedbackFolder(Folder):
    """``data/feedback/<YYYY-MM>/``: results known by a month, as an ingest feedback folder."""

    KIND = "feedback"
    MARKER = "inspections.parquet"
    FILES = {"inspections": "inspections.parquet"}


class HealthFolder(Folder):
    """``data/health/<YYYY-MM>/``: PSI month over month and trends."""

    KIND = "health"
    MARKER = "health.json"
    FILES = {
        "health": "health.json",
        "psi": "psi.csv",
        "grade_trend": "grade_trend.csv",
        "migration_trend": "migration_trend.csv",
    }


class ReportFolder(Folder):
    """``reports/<YYYY-MM>/``: the leadership report and the month's notebook audit copies."""

    KIND = "report"
    MARKER = "leadership.html"
    FILES = {"html": "leadership.html", "pdf": "leadership.pdf", "runs": "runs"}

    @property
    def runs(self) -> Path:
        """Executed stage notebooks, one file per run (never overwritten)."""
        return self.file("runs")

    def executed_notebooks(self) -> list[Path]:
        """The executed notebooks' HTML pages of this month, oldest first."""
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.glob("*.html") if visible(p))


# --------------------------------------------------------------------------- the workspace


@dataclass(frozen=True)
class Workspace:
    """Every output folder of one workspace root (``data/`` and ``reports/``)."""

    root: Path

    @property
    def data(self) -> Path:
        """``data/``: exports, the demo city, every stage output (git-ignored)."""
        return self.root / "data"

    @property
    def reports(self) -> Path:
        """``reports/``: executed notebooks, leadership reports, the index."""
        return self.root / "reports"

    @property
    def ingest(self) -> IngestCollection:
        """``data/ingest/<name>/``."""
        return IngestCollection(self.data / "ingest", IngestFolder)

    @property
    def indicators(self) -> MonthlyCollection[IndicatorsFolder]:
        """``data/indicators/<YYYY-MM>/``."""
        return MonthlyCollection(self.data / "indicators", IndicatorsFolder)

    @property
    def panels(self) -> Collection[PanelFolder]:
        """``data/panel/<name>/``."""
        return Collection(self.data / "panel", PanelFolder)

    @property
    def models(self) -> Collection[ModelFolder]:
        """``data/models/<family>/``."""
        return Collection(self.data / "models", ModelFolder)

    @property
    def grades(self) -> MonthlyCollection[GradeFolder]:
        """``data/grades/<YYYY-MM>/``."""
        return MonthlyCollection(self.data / "grades", GradeFolder)

    @property
    def plans(self) -> PlanCollection:
        """``data/sampling/<YYYY-MM>/<plan>/``."""
        return PlanCollection(self.data / "sampling", PlanFolder)

    @property
    def results(self) -> Collection[ResultsFolder]:
        """``data/results/<YYYY-MM>/<plan>/``."""
        return Collection(self.data / "results", ResultsFolder)

    @property
    def evaluations(self) -> EvaluationCollection:
        """``data/evaluation/<YYYY-MM>/<plan>/``."""
        return EvaluationCollection(self.data / "evaluation", EvaluationFolder)

    @property
    def feedback(self) -> MonthlyCollection[FeedbackFolder]:
        """``data/feedback/<YYYY-MM>/``."""
        return MonthlyCollection(self.data / "feedback", FeedbackFolder)

    @property
    def health(self) -> MonthlyCollection[HealthFolder]:
        """``data/health/<YYYY-MM>/``."""
        return MonthlyCollection(self.data / "health", HealthFolder)

    @property
    def sharing(self) -> Path:
        """``data/sharing/``: department extracts (``<YYYY-MM>/<department>/``), the register."""
        return self.data / "sharing"

    def extract(self, month: str, department: str) -> ExtractFolder:
        """The default folder of one department's extract of one month."""
        return ExtractFolder(self.sharing / month / department)

    @property
    def sharing_register(self) -> Path:
        """``data/sharing/register.csv``: the access register (访问登记) of every extract."""
        return self.sharing / "register.csv"

    @property
    def report_months(self) -> MonthlyCollection[ReportFolder]:
        """``reports/<YYYY-MM>/``."""
        return MonthlyCollection(self.reports, ReportFolder)

    def output_months(self) -> list[str]:
        """Every month with any complete stage output, oldest first."""
        months = set(self.grades.months()) | set(self.health.months())
        months |= set(self.plans.months()) | set(self.evaluations.months())
        months |= set(self.indicators.months())
        return sorted(months)

    def iter_internal(self) -> Iterator[Path]:
        """Folders holding enterprise-level or internal data (to be owner-only)."""
        yield from (self.data, self.reports)
