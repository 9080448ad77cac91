"""The monthly grading run (月度信用风险分类): every active enterprise, one signed folder.

``run_grading`` loads the model by alias from the registry (``champion`` by default),
computes the indicators as of the snapshot, scores, applies the qualitative overrides,
explains every grade, compares with last month and writes ``data/grades/<YYYY-MM>/``::

    grades.parquet / grades.csv  one row per enterprise (internal: 内部参考，不对外公开)
    distribution.csv             enterprises and mean PD per grade
    overrides.csv                how many grades each rule moved
    migration.csv                last month's grade × this month's
    warnings.csv                 worsened by ≥ 2 classes or entered the worst grade (internal)
    region_industry.csv          high-risk share per region × industry section
    importance.csv               mean |SHAP| per indicator (global importance)
    summary.json                 snapshot, scheme, model, counts, checks
    manifest.json                SHA-256 of every file + HMAC signature (workbench verify)

The folder is built in a temporary sibling and renamed into place, so a crash never
leaves a half-written month and never touches another month; files are owner-only.
Nothing is written when the model, the data or a rule is wrong: those are checked first.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from workbench import config, contract, governance, sparksession, workspace
from workbench.config import labels
from workbench.errors import ParameterError
from workbench.grading import explain, migration, overrides
from workbench.indicators import load_catalog
from workbench.indicators.engine import Engine
from workbench.stages.registry import option
from workbench.workspace import atomic_directory, csvsafe, integrity, write_json
from workbench.workspace.folders import GradeFolder, IngestFolder, check_month

log = logging.getLogger(__name__)

#: The grade file's first line (and metadata): Chinese, and free of commas and quotes so
#: that Excel shows it in one cell above the header.
CONFIDENTIAL_NOTE = "内部参考，不对外公开：仅供市场监管部门配置监管资源使用，不得公开或转发"
GRADE_COLUMNS = tuple(name for name, _, _, _ in contract.GRADE_FILE)
#: Grade-file columns that must never reach anything public (the notices' tests use this).
CONFIDENTIAL_COLUMNS = contract.CONFIDENTIAL_GRADE_COLUMNS
SHAP_CHECK_ROWS = 2_000
#: indicators every grade row carries (columns of the grade file), whatever the model reads
ROW_INDICATORS = ("entity_type", "industry_section")
#: Rows scored, overridden and explained at once: a province's matrix is graded in chunks
#: (the same rows as in one piece; the contributions' background is the whole month).
GRADE_CHUNK = 1_000_000
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Parameters:
    """Parameters of ``workbench grade`` (and of ``notebooks/04_grade.ipynb``)."""

    month: str = option("", "month YYYY-MM to grade as of its last day (default: the data's)")
    data: str = option(
        "",
        "ingest output folder (default: data/ingest/<YYYY-MM>, else the latest ingest)",
        path=True,
    )
    family: str = option("generic", "model family (registered model workbench-<family>)")
    alias: str = option("champion", "registry alias of the model to grade with")
    overrides: str = option(
        "", "override rules YAML (定性判定; default: the configuration's)", path=True
    )
    out: str = option("", "output folder (default: data/grades/<YYYY-MM>)", path=True)
    mlflow: bool = option(True, "log the month's aggregates to MLflow", cli=False)
    engine: str = option(
        "duckdb",
        "where indicators and scores are computed (计算引擎): duckdb on this machine, or "
        "spark (indicators as Spark SQL, the champion through mlflow.pyfunc.spark_udf)",
        choices=ENGINES,
    )
    spark_master: str = option(
        sparksession.LOCAL,
        "Spark master for --engine spark: local[N], a cluster URL (spark://…, yarn, k8s://…) "
        "or a Spark Connect address (sc://host:15002)",
        metavar="URL",
    )


def month_of(snapshot: str) -> str:
    """``YYYY-MM`` of a date."""
    return f"{pd.Timestamp(snapshot):%Y-%m}"


def month_end(month: str) -> str:
    """The last day of ``YYYY-MM`` as ``YYYY-MM-DD``."""
    return str(pd.Period(month, "M").end_time.date())


def resolve(params: Parameters, settings: config.Settings | None = None) -> Parameters:
    """Fill the defaults and check the parameters, the data and the model alias.

    Nothing is written and no model is loaded; a missing alias or registered model
    fails here (naming what exists), before any notebook or file.

    Raises:
        ParameterError: a malformed month, data ending before the month, a missing file;
            ModelNotFoundError: the alias or model does not exist; NotReadyError: no ingest.
    """
    ws = workspace.current()
    given = IngestFolder(Path(params.data)) if params.data else None
    if params.month:
        graded = check_month(params.month, "--month")
    else:
        graded = (given or ws.ingest.require_latest()).require().snapshot[:7]
    data = given or ws.ingest.for_month(graded) or ws.ingest.require_latest()
    data.require("run `workbench ingest --data EXPORT_FOLDER` first")
    day = pd.Timestamp(month_end(graded))
    if pd.Timestamp(data.snapshot) < day:
        raise ParameterError(
            f"the data in {data.path} end on {data.snapshot}, before the end of {graded}: "
            f"ingest that month first (workbench ingest --as-of {day.date()})"
        )
    if params.overrides and not Path(params.overrides).is_file():
        raise ParameterError(f"override rules {params.overrides} do not exist")
    governance.resolve_alias(params.family, params.alias)
    if params.out:  # refused now, not after every enterprise is graded
        workspace.check_replaceable(params.out, GradeFolder.MARKER)
    out = params.out or str(ws.grades.at(graded).path)
    if params.engine not in ENGINES:
        raise ParameterError(f"unknown engine {params.engine!r}: use one of {', '.join(ENGINES)}")
    return Parameters(
        graded,
        str(data.path),
        params.family,
        params.alias,
        params.overrides,
        out,
        params.mlflow,
        params.engine,
        params.spark_master or sparksession.LOCAL,
    )


def run(params: Parameters, settings: config.Settings | None = None) -> dict:
    """Grade every active enterprise; write and sign the month's folder."""
    return run_grading(params)


def read(params: Parameters) -> dict:
    """The summary of a finished grading run."""
    return GradeFolder(Path(params.out)).summary()


def month(params: Parameters) -> str:
    """The graded month."""
    return params.month


def describe(params: Parameters, summary: dict) -> list[str]:
    """What the CLI prints (aggregates only)."""
    n = max(summary["enterprises"], 1)
    counts = ", ".join(f"{g} {c:,} ({c / n:.1%})" for g, c in summary["counts"].items())
    model = summary["model"]
    return [
        f"graded {summary['enterprises']:,} enterprises as of {summary['snapshot']} with "
        f"{model['name']} v{model['version']} ({model['alias']}): {counts}",
        f"  overrides moved {summary['overridden']:,} grades; {summary['warnings']:,} early "
        f"warnings (vs {summary['previous_month'] or 'no previous month'})",
        f"grade folder (internal, signed): {params.out}",
    ]


def notebook_skipped(params: Parameters) -> bool:
    """A Spark run writes the folder without the notebook (the notebook grades with DuckDB)."""
    return params.engine == "spark"


def cycle_parameters(ctx) -> Parameters:
    """The cycle grades the month with the champion."""
    return Parameters(month=ctx.month, family=ctx.family)


def previous_month_dir(month: str) -> Path | None:
    """Last month's grade folder, when there is one (the migration baseline)."""
    prev = f"{pd.Period(month, 'M') - 1}"
    folder = workspace.current().grades.at(prev)
    return folder.path if folder.exists() else None


def _register_columns(data: IngestFolder, codes) -> tuple[pd.Series, pd.Series]:
    """Name and region code of each graded enterprise, looked up in Arrow.

    The register stays in Arrow (a province's is 10⁷ rows: as Python strings it would
    take GBs); only the graded rows' values become Python objects.
    """
    register = pq.read_table(
        data.table_path("enterprises"), columns=["uscc", "name", "region_code"]
    )
    at = pc.index_in(pa.array(codes, type=pa.string()), value_set=register["uscc"])
    return tuple(
        pd.Series(register[column].take(at).to_numpy(zero_copy_only=False), dtype=object)
        for column in ("name", "region_code")
    )


def graded_indicators(model, rules: list[overrides.Rule]) -> set[str]:
    """The indicators a month's grading reads (the others are not computed).

    The model's, the override rules', and the two the grade rows carry: at 10⁷
    enterprises grading with the whole catalog peaked at 12.6–13.0 GiB, with these
    10.7–10.9 GiB (bench/README.md; ``Catalog.restricted`` keeps what they read).
    """
    return {*model.features, *(i for r in rules for i in r.indicators), *ROW_INDICATORS}


def grade_frame(
    matrix: pd.DataFrame,
    model,
    rules: list[overrides.Rule],
    names: dict[str, str],
    snapshot: str,
    predicted: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score, override and explain every row of an indicator matrix.

    ``predicted`` (``score``, ``pd``, ``model_grade`` row for row) comes from elsewhere
    when the model scored on Spark; without it the model scores here.

    Returns the grade rows (without the enterprise name/model identity columns) and the
    contributions (points relative to this month's average enterprise = SHAP in points).
    """
    scheme = model.scheme.scheme
    parts = _chunks(len(matrix))
    scored, moved, pointed = [], [], []
    for part in parts:  # row by row, so chunks give the same rows in less memory
        sub = matrix.iloc[part]
        pred = model.predict(sub) if predicted is None else predicted.iloc[part]
        scored.append(pred)
        moved.append(
            overrides.apply_overrides(
                sub, pred["model_grade"].to_numpy(), rules, scheme.id, scheme.codes
            )
        )
        pointed.append(model.scorecard.points(sub))
    predicted, final, points = (_joined(p) for p in (scored, moved, pointed))
    del scored, moved, pointed
    contrib = points - points.mean()  # background = this month's graded population
    del points
    reasons = _joined([explain.reasons(contrib.iloc[p], matrix.iloc[p], names) for p in parts])
    rows = pd.DataFrame(
        {
            "uscc": matrix["uscc"].astype(object).to_numpy(),
            "snapshot": pd.Timestamp(snapshot),
            **{c: matrix[c].astype(object).to_numpy() for c in ROW_INDICATORS},
            "score": predicted["score"].round(2).to_numpy(),
            "pd": predicted["pd"].to_numpy(),
            "model_grade": predicted["model_grade"].to_numpy(),
            "override_rule": final["override_rule"].to_numpy(),
            "grade": final["grade"].to_numpy(),
            "observation": final["observation"].to_numpy(),
        },
        index=matrix.index,
    )
    for column in reasons.columns:
        is_points = column.endswith("_points")
        rows[column] = (
            reasons[column] if is_points else reasons[column].where(reasons[column] != "")
        )
    return rows, contrib


def _chunks(n: int) -> list[slice]:
    """Row slices of at most :data:`GRADE_CHUNK` rows (one slice for a city)."""
    return [slice(a, min(a + GRADE_CHUNK, n)) for a in range(0, n, GRADE_CHUNK)] or [slice(0, 0)]


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames)


def distribution_table(rows: pd.DataFrame, scheme) -> pd.DataFrame:
    """Enterprises, share and mean PD per final grade, in scheme order."""
    counts = rows.groupby("grade", observed=True).agg(
        enterprises=("uscc", "size"), mean_pd=("pd", "mean")
    )
    table = counts.reindex(list(scheme.codes)).fillna({"enterprises": 0})
    table["enterprises"] = table["enterprises"].astype(int)
    table["share"] = table["enterprises"] / max(len(rows), 1)
    table["model_grade_enterprises"] = (
        rows["model_grade"].value_counts().reindex(list(scheme.codes), fill_value=0).to_numpy()
    )
    table.insert(0, "label", list(scheme.labels))
    return table.reset_index().rename(columns={"index": "grade"})


def override_table(rows: pd.DataFrame, rules: list[overrides.Rule]) -> pd.DataFrame:
    """How many final grades each rule moved (a grade can be moved by several)."""
    moved = rows["override_rule"].dropna().str.split(";").explode().value_counts()
    return pd.DataFrame(
        {
            "rule": [r.id for r in rules],
            "description": [r.description for r in rules],
            "moved": [int(moved.get(r.id, 0)) for r in rules],
        }
    )


def importance_table(contrib: pd.DataFrame, catalog) -> pd.DataFrame:
    """Mean |SHAP| in points per indicator, with its Chinese name and dimension."""
    mean_abs = contrib.abs().mean().sort_values(ascending=False)
    return pd.DataFrame(
        {
            "indicator": mean_abs.index,
            "name_zh": [catalog.get(f).name for f in mean_abs.index],
            "dimension": [catalog.get(f).dimension for f in mean_abs.index],
            "mean_abs_shap": mean_abs.round(3).to_numpy(),
        }
    )


def _write_grade_files(rows: pd.DataFrame, folder: Path) -> None:
    """grades.parquet (with a confidentiality key in its metadata) and grades.csv (BOM)."""
    table = pa.Table.from_pandas(rows, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"workbench.confidentiality"] = CONFIDENTIAL_NOTE.encode("utf-8")
    written = GradeFolder(folder)
    pq.write_table(table.replace_schema_metadata(metadata), written.file("grades"))
    with open(written.file("grades_csv"), "wb") as handle:
        handle.write(f"\ufeff# {CONFIDENTIAL_NOTE}\n".encode())
        pacsv.write_csv(
            csvsafe.defuse_table(table), handle, pacsv.WriteOptions(quoting_style="needed")
        )


def read_grades(folder: str | Path) -> pd.DataFrame:
    """A month's grade rows (the parquet file)."""
    return GradeFolder(Path(folder)).read_grades()


def run_grading(params: Parameters) -> dict:
    """Grade every active enterprise as of the snapshot; write and sign the month's folder."""
    started = time.perf_counter()
    model, ref = governance.load_grading_model(params.family, params.alias)  # fails first
    packs = () if params.family == "generic" else (params.family,)
    catalog = load_catalog(packs=packs)
    rules = overrides.load_rules(params.overrides or None)
    scheme = model.scheme.scheme
    overrides.check_scheme(rules, scheme)  # before any indicator is computed
    data = IngestFolder(Path(params.data))
    snapshot = month_end(params.month)
    computed = catalog.restricted(graded_indicators(model, rules))
    if params.engine == "spark":
        matrix, predicted = _spark_matrix(params, data, snapshot, computed, ref, model)
    else:
        with Engine(data.tables) as engine:
            matrix = engine.compute(snapshot, computed)
        predicted = None
    if packs:
        kept = matrix[f"in_{packs[0]}"].astype(bool).to_numpy()
        matrix = matrix[kept]
        predicted = None if predicted is None else predicted[kept].reset_index(drop=True)
    overrides.check_rules(rules, matrix.columns, scheme.id, scheme.codes)
    matrix = matrix.reset_index(drop=True)
    names = {ind.id: ind.name for ind in catalog.all}
    rows, contrib = grade_frame(matrix, model, rules, names, snapshot, predicted)
    name, region = _register_columns(data, rows["uscc"].to_numpy())
    rows.insert(1, "name", name)
    rows.insert(5, "region_code", region)
    rows["model_name"], rows["model_version"], rows["run_id"] = ref.name, ref.version, ref.run_id
    rows["scheme"] = scheme.id
    rows = rows[list(GRADE_COLUMNS)]
    sample = matrix.sample(n=min(SHAP_CHECK_ROWS, len(matrix)), random_state=0)
    del matrix  # the files below need the rows only (a province's matrix is GBs)
    shap_gap = explain.shap_agreement(model.scorecard, sample, sample)

    month = params.month
    in_place = Path(params.out).parent == workspace.current().grades.root
    prev_dir = previous_month_dir(month) if in_place else None
    previous = read_grades(prev_dir) if prev_dir else None
    codes = tuple(scheme.codes)
    matrix_table = migration.migration_matrix(previous, rows, codes)
    warnings_table = migration.early_warnings(previous, rows, codes)
    region_table = migration.region_industry(rows, codes)
    distribution = distribution_table(rows, scheme)
    moved = override_table(rows, rules)
    importance = importance_table(contrib, catalog)
    summary = {
        "snapshot": snapshot,
        "month": month,
        "family": params.family,
        "data": str(params.data),
        "scheme": {
            "id": scheme.id,
            "name": scheme.name,
            "grades": list(codes),
            "labels": dict(zip(codes, scheme.labels, strict=True)),
            "cutoffs": list(model.scheme.cutoffs),
        },
        "model": asdict(ref),
        "catalog_matches_model": catalog.fingerprint() == model.catalog_fingerprint,
        "enterprises": len(rows),
        "counts": {g: int(n) for g, n in zip(codes, distribution["enterprises"], strict=True)},
        "model_counts": {
            g: int(n) for g, n in zip(codes, distribution["model_grade_enterprises"], strict=True)
        },
        "overridden": int(rows["override_rule"].notna().sum()),
        "observation": int(rows["observation"].sum()),
        "previous_month": prev_dir.name if prev_dir else None,
        "warnings": int(len(warnings_table)),
        "shap_points_max_gap": shap_gap,
        "confidentiality": CONFIDENTIAL_NOTE,
    }
    if not summary["catalog_matches_model"]:
        log.warning("the indicator catalog changed since the model was trained")
    with atomic_directory(params.out, GradeFolder.MARKER) as tmp:
        _write_grade_files(rows, tmp)
        out = GradeFolder(tmp)
        csvsafe.to_csv(distribution, out.file("distribution"))
        csvsafe.to_csv(moved, out.file("overrides"))
        csvsafe.to_csv(matrix_table, out.file("migration"), index=True)
        csvsafe.to_csv(warnings_table, out.file("warnings"))
        csvsafe.to_csv(region_table, out.file("region_industry"))
        csvsafe.to_csv(importance, out.file("importance"))
        summary["seconds"] = round(time.perf_counter() - started, 1)
        if params.mlflow:
            summary["mlflow_run_id"] = governance.log_grading_run(
                ref,
                params.family,
                params={
                    "snapshot": snapshot,
                    "alias": params.alias,
                    "scheme": scheme.id,
                    "overrides": params.overrides or "packaged",
                },
                metrics=_grading_metrics(summary, distribution, moved, shap_gap),
                artifacts=[
                    out.file("distribution"),
                    out.file("overrides"),
                    out.file("migration"),
                    out.file("importance"),
                ],
            )
        write_json(out.file("summary"), summary)
        integrity.write_manifest(tmp, {"month": month, "snapshot": snapshot, "model": asdict(ref)})
    return summary


def _spark_matrix(params: Parameters, data, snapshot, catalog, ref, model):
    """The indicator matrix and the champion's predictions, both computed by Spark.

    The indicators are the DuckDB engine's SQL transpiled (``indicators.spark``); the
    registered version the run names (``ref``) scores through ``mlflow.pyfunc.spark_udf``
    on the executors. Both come back to the driver row for row, sorted by USCC, for the
    overrides, reasons and files that follow (the same code as the DuckDB engine's).
    """
    import mlflow
    from pyspark.sql import functions as F

    from workbench.indicators.spark import SparkEngine, to_matrix

    spark = sparksession.session(params.spark_master)
    columns = ("score", "pd", "model_grade")
    with SparkEngine(data.tables, spark) as engine:
        indicators = engine.frame(snapshot, catalog)
        with governance.store(), sparksession.pandas3_tolerated():
            score = mlflow.pyfunc.spark_udf(
                spark,
                f"models:/{ref.name}/{ref.version}",
                result_type="score double, pd double, model_grade string",
                env_manager="local",
            )
        features = F.struct(*[F.col(f"`{name}`") for name in model.features])
        scored = indicators.withColumn("_predicted", score(features))
        scored = scored.select("*", *[F.col(f"_predicted.{c}").alias(f"_{c}") for c in columns])
        frame = sparksession.to_pandas(scored.drop("_predicted"))
    frame = frame.sort_values("uscc", kind="stable").reset_index(drop=True)
    predicted = frame[[f"_{c}" for c in columns]].set_axis(list(columns), axis=1)
    matrix = to_matrix(frame.drop(columns=[f"_{c}" for c in columns]), catalog, snapshot)
    return matrix, predicted.reset_index(drop=True)


def _grading_metrics(summary, distribution, moved, shap_gap) -> dict:
    metrics = {
        "enterprises": summary["enterprises"],
        "overridden": summary["overridden"],
        "observation": summary["observation"],
        "warnings": summary["warnings"],
        "shap_points_max_gap": shap_gap,
    }
    for grade, share in zip(distribution["grade"], distribution["share"], strict=True):
        metrics[f"share_{grade}"] = float(share)
    for rule, count in zip(moved["rule"], moved["moved"], strict=True):
        metrics[f"override_{rule}"] = int(count)
    return metrics


def read_summary(folder: str | Path) -> dict:
    """A month's grading summary."""
    return GradeFolder(Path(folder)).summary()


def headline_markdown(summary: dict) -> str:
    """What matters first, in Chinese (aggregates only)."""
    counts = "；".join(
        f"{g} 类 {n:,} 户（{n / max(summary['enterprises'], 1):.1%}）"
        for g, n in summary["counts"].items()
    )
    prev = summary["previous_month"] or "无（首次评级）"
    model = summary["model"]
    role = {"champion": "在用模型", "challenger": "挑战模型"}.get(model["alias"], "指定版本")
    gap = summary["shap_points_max_gap"]
    agree = "一致（差异小于 0.01 分）" if gap < 0.01 else f"最大相差 {gap:.2f} 分，需核查"
    return "\n".join(
        [
            f"**评级时点**：{summary['snapshot']}　**模型**：{labels.model_label(summary['family'])}"
            f" 第 {model['version']} 版（{role}）　**等级方案**：{summary['scheme']['name']}",
            f"**参评主体**：{summary['enterprises']:,} 户；{counts}",
            f"**定性调整**：{summary['overridden']:,} 户；观察期（新设主体）"
            f"{summary['observation']:,} 户",
            f"**对比月份**：{prev}；预警 {summary['warnings']:,} 户",
            f"**扣分理由核对**：SHAP 独立计算的影响与评分卡点数{agree}",
            f"> {CONFIDENTIAL_NOTE}",
        ]
    )


def cycle_record(ctx, summary: dict, echo) -> None:
    """Tell the cycle how many enterprises were graded."""
    ctx.record["graded"] = summary["enterprises"]
