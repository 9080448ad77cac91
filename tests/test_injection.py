"""Tried as an attacker: hostile enterprise names through one month of the whole cycle.

Every enterprise of a small city gets a name that begins with a script, an event
handler, a style sheet or a spreadsheet formula; a few get a broken credit code so that
they land in quarantine. The monthly cycle then runs once (every stage, every notebook,
the demo provider's results) in a private workspace, and the run is examined:

- every HTML page it wrote, opened in headless Chromium: nothing ran (no DOM marker set,
  no live ``<script>``/``<style>``/handler from the data) and the names are shown as text;
- every CSV it wrote: no cell a spreadsheet would run, the names still there (defused),
  the Parquet files keeping the originals, the draw still replaying byte for byte;
- permissions: everything holding enterprise data, the seed or the store is owner-only;
- the seed is not on the sampling page; no kernel file was left in ``notebooks/``.
"""

import csv
import os
import stat
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from workbench import cycle, governance, workspace
from workbench.demo import synth
from workbench.reporting import browser
from workbench.stages import runner
from workbench.stages import sample as sample_stage
from workbench.workspace import csvsafe, integrity

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]

MARK = "pwned"
PAYLOADS = (
    f"<script>document.documentElement.setAttribute('data-{MARK}','script')</script>",
    f"<img src=x onerror=\"document.documentElement.setAttribute('data-{MARK}','img')\">",
    f"<style>/*{MARK}*/html{{background:red}}</style>",
    '=HYPERLINK("http://example.invalid","点击")',
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
)
FORMULAS = tuple(p for p in PAYLOADS if p[0] in csvsafe.TRIGGERS)
MARKUP = tuple(p for p in PAYLOADS if p.startswith("<"))
BROKEN_CODES = 5  # enterprises whose credit code is broken: quarantined, names and all
GATES = "auc_min: 0.5\nks_min: 0.0\npsi_max: null\ngrades_monotone: false\nmax_missing_share: 1.0\n"


def hostile_city(city: Path) -> None:
    """Prefix every enterprise name with a payload; break a few credit codes."""
    path = city / "enterprises.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame["name"] = [PAYLOADS[i % len(PAYLOADS)] + n for i, n in enumerate(frame["name"])]
    formula = PAYLOADS.index(FORMULAS[0])  # their names begin with =HYPERLINK(…)
    broken = frame.index[formula : formula + BROKEN_CODES * len(PAYLOADS) : len(PAYLOADS)]
    frame.loc[broken, "uscc"] = "ZZ" + frame.loc[broken, "uscc"].str[2:]
    frame.to_csv(path, index=False, encoding="utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One month of the cycle, with notebooks, on the hostile city (shared by the checks)."""
    home = tmp_path_factory.mktemp("injection-home")
    (home / "pyproject.toml").write_text("# test home\n")
    (home / "conf").mkdir()
    (home / "conf" / "gates.yaml").write_text(GATES, encoding="utf-8")
    notebooks = set(os.listdir(workspace.notebooks_dir()))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        mp.setenv(integrity.KEY_ENV_FILE, str(home / ".workbench" / "signing.key"))
        mp.delenv(integrity.KEY_ENV, raising=False)
        mp.delenv(governance.URI_VARIABLE, raising=False)
        city = workspace.default_city_dir()
        synth.generate_city(city, entities=3000, months=24, seed=7)
        hostile_city(city)
        settings = cycle.demo_settings(city, synth.DEFAULT_END, 1)
        done = cycle.run_cycle(settings, echo=lambda line: None)
        (month,) = done["months"]
        plan = workspace.current().plans.in_month(month)[0]
        replay = sample_stage.Parameters(plan=plan.plan_id, month=month, replay=True)
        runner.execute("sample", replay)  # still byte for byte, formulas defused
        pages = {
            path: browser.dump_dom(path)
            for root in (home / "reports", home / "data")
            for path in sorted(root.rglob("*.html"))
            if city not in path.parents
        }
        yield {
            "home": home,
            "city": city,
            "month": month,
            "plan": plan,
            "pages": pages,
            "notebooks": (notebooks, set(os.listdir(workspace.notebooks_dir()))),
        }


class Page(HTMLParser):
    """What a browser made of a page: live elements carrying the marker, and the text."""

    def __init__(self, dom: str):
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.text: list[str] = []
        self._inside: list[str] = []
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        self._inside.append(tag)
        for name, value in attrs:
            if MARK in name or MARK in (value or ""):
                self.live.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag in self._inside:
            while self._inside.pop() != tag:
                pass

    def handle_data(self, data):
        if self._inside and self._inside[-1] in ("script", "style"):
            if MARK in data:
                self.live.append(f"<{self._inside[-1]}>{data[:80]}")
        else:
            self.text.append(data)


def _page(run, part: str) -> tuple[Path, Page]:
    found = [(p, Page(dom)) for p, dom in run["pages"].items() if part in p.name]
    assert found, f"no page named *{part}* among {[p.name for p in run['pages']]}"
    return found[-1]


def test_no_payload_runs_in_any_page(run):
    names = {p.relative_to(run["home"]).as_posix() for p in run["pages"]}
    month = run["month"]
    for expected in ("reports/index.html", f"reports/{month}/leadership.html"):
        assert expected in names
    for stage in ("01_ingest", "03_train", "04_grade", "05_sample", "06_evaluate", "07_report"):
        assert any("/runs/" in n and stage in n for n in names), stage
    assert any(n.endswith("public/notice.html") for n in names)
    assert any(n.endswith("public/results_notice.html") for n in names)
    for path, dom in run["pages"].items():
        page = Page(dom)
        assert not page.live, f"{path}: {page.live}"


def test_hostile_names_show_as_text(run):
    shown = set()
    for part in ("05_sample", "06_evaluate", "notice.html", "results_notice.html"):
        path, page = _page(run, part)
        text = "".join(page.text)
        markup = {p for p in MARKUP if p in text}
        assert markup, f"{path} shows no hostile name as text"
        shown |= markup
    assert shown == set(MARKUP)


def test_no_csv_cell_is_a_formula(run):
    data = run["home"] / "data"
    cells: dict[str, list[str]] = {}
    for path in sorted(data.rglob("*.csv")):
        if run["city"] in path.parents:
            continue  # the exports as received
        with open(path, encoding="utf-8-sig", newline="") as handle:
            lines = handle.readlines()
        if lines and lines[0].startswith("# "):
            lines = lines[1:]  # grades.csv: the confidentiality line
        found = cells[path.relative_to(data).as_posix()] = [c for r in csv.reader(lines) for c in r]
        live = [c for c in found if csvsafe.is_formula(c)]
        assert not live, f"{path.relative_to(data)}: {live[:3]}"
    month, plan = run["month"], run["plan"].plan_id
    quarantine = [name for name in cells if "/quarantine/enterprises" in name]
    assert quarantine, sorted(cells)
    for output in (
        f"grades/{month}/grades.csv",
        f"sampling/{month}/{plan}/tasks.csv",
        f"sampling/{month}/{plan}/public/notice.csv",
        f"evaluation/{month}/{plan}/public/results_notice.csv",
        quarantine[0],
    ):
        defused = {p for p in FORMULAS for c in cells[output] if c.startswith("'" + p)}
        assert defused, f"{output}: no hostile name found defused"
    for output in ("warnings.csv", "per_grade.csv", "strata.csv", "psi.csv", "signal.csv"):
        assert any(name.endswith("/" + output) for name in cells), output


def test_parquet_keeps_the_original_names(run):
    grades = run["home"] / "data" / "grades" / run["month"] / "grades.parquet"
    names = pd.read_parquet(grades, columns=["name"])["name"]
    assert names.str.startswith(FORMULAS[0]).any() and names.str.startswith("-2+3").any()
    tasks = pd.read_parquet(run["plan"].path / "tasks.parquet", columns=["name"])["name"]
    assert tasks.map(lambda n: n.startswith(PAYLOADS)).all()


def test_everything_written_is_owner_only(run):
    home = run["home"]
    for root in workspace.PRIVATE_ROOTS:
        assert stat.S_IMODE((home / root).stat().st_mode) == 0o700, root
    loose = []
    for root in workspace.PRIVATE_ROOTS:
        for path in (home / root).rglob("*"):
            if run["city"] == path or run["city"] in path.parents:
                continue  # the exports as received (inside data/, which is 0700)
            if stat.S_IMODE(path.lstat().st_mode) & 0o077:
                loose.append(path.relative_to(home).as_posix())
    assert not loose, loose[:10]
    assert (home / "mlflow" / "mlflow.db").is_file()


def test_the_seed_stays_in_the_internal_draw_record(run):
    seed = str(run["plan"].draw()["seed"])
    _, page = _page(run, "05_sample")
    assert seed not in "".join(page.text)
    for name in ("notice.html", "results_notice.html"):
        assert seed not in "".join(_page(run, name)[1].text)


def test_no_kernel_file_was_left_in_the_notebooks(run):
    before, after = run["notebooks"]
    left = [n for n in after - before if "kernel" in n or n.endswith((".json", "-ipc"))]
    assert not left
