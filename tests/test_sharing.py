"""Sharing grades with other departments (分类结果共享共用): only the configured part, signed.

Each test works in a private workspace that reads the prepared home's graded month (its
grade folder through ``--grades``, checked with that home's signing key), so the prepared
home is never written to. Expectations are computed here from the grade file and the
ingest's tables, independently of the sharing code.
"""

import hashlib
import json
import shutil
import stat
import subprocess

import pandas as pd
import pytest
import yaml

from workbench import cli, config
from workbench.sharing import keys, read_register
from workbench.workspace import integrity
from workbench.workspace.folders import GradeFolder, IngestFolder


@pytest.fixture
def env(prepared_home, tmp_path, monkeypatch):
    """A private bureau workspace that reads the prepared home's grades of its month."""
    from conftest import NOTEBOOK_MONTH

    home = tmp_path / "bureau"
    home.mkdir()
    (home / "pyproject.toml").write_text("# test home\n")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("WORKBENCH_CONF", raising=False)
    monkeypatch.delenv(integrity.KEY_ENV, raising=False)
    monkeypatch.delenv(keys.KEY_ENV_FILE, raising=False)
    monkeypatch.setenv(integrity.KEY_ENV_FILE, str(prepared_home / ".workbench" / "signing.key"))
    grades = GradeFolder(prepared_home / "data" / "grades" / NOTEBOOK_MONTH)
    return {"home": home, "month": NOTEBOOK_MONTH, "grades": grades}


def share(env, department, *extra):
    args = ["share", "--month", env["month"], "--department", department]
    return cli.main([*args, "--grades", str(env["grades"].path), *extra])


def extract_dir(env, department):
    return env["home"] / "data" / "sharing" / env["month"] / department


def write_policy(env, departments):
    conf = env["home"] / "conf"
    conf.mkdir(exist_ok=True)
    text = yaml.safe_dump({"departments": departments}, allow_unicode=True)
    (conf / "sharing.yaml").write_text(text, encoding="utf-8")


def food_domain(env):
    """The default food department's enterprises, from the ingest's tables and the grades."""
    dept = next(d for d in _default_policy()["departments"] if d["id"] == "food_safety")
    ingest = IngestFolder(env["grades"].summary()["data"])
    end = pd.Timestamp(pd.Period(env["month"], "M").end_time.date())
    lic = ingest.read_table("licenses")
    granted = pd.to_datetime(lic["granted_on"])
    revoked = pd.to_datetime(lic["revoked_on"])
    holders = lic[
        lic["license_type"].isin(dept["domain"]["licenses"])
        & (granted <= end)
        & (revoked.isna() | (revoked > end))
    ]["uscc"]
    register = ingest.read_table("enterprises")
    prefixes = tuple(dept["domain"]["industries"])
    in_industry = register[register["industry_code"].astype(str).str.startswith(prefixes)]
    graded = set(env["grades"].read_grades()["uscc"])
    return graded & (set(holders) | set(in_industry["uscc"]))


def _default_policy():
    return yaml.safe_load(config.default_file("sharing").read_text(encoding="utf-8"))


def test_extract_holds_only_the_configured_columns_and_domain(env, capsys):
    assert share(env, "food_safety") == 0
    out = capsys.readouterr().out
    folder = extract_dir(env, "food_safety")
    assert str(folder) in out
    extract = pd.read_parquet(folder / "extract.parquet")
    grades = env["grades"].read_grades().set_index("uscc")
    summary = env["grades"].summary()

    assert list(extract.columns) == ["uscc", "name", "grade", "grade_label"]
    expected = food_domain(env)
    assert 0 < len(expected) < len(grades)  # a real part of the month, not all of it
    assert set(extract["uscc"]) == expected and extract["uscc"].is_unique
    assert (extract["grade"].to_numpy() == grades.loc[extract["uscc"], "grade"].to_numpy()).all()
    assert (extract["name"].to_numpy() == grades.loc[extract["uscc"], "name"].to_numpy()).all()
    labels = summary["scheme"]["labels"]
    assert (extract["grade_label"] == extract["grade"].map(labels)).all()
    # the CSV holds the same rows and nothing confidential
    csv = pd.read_csv(folder / "extract.csv", encoding="utf-8-sig", dtype=str)
    assert list(csv.columns) == list(extract.columns) and len(csv) == len(extract)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"] == len(extract) and manifest["month"] == env["month"]
    assert [c["name"] for c in manifest["columns"]] == list(extract.columns)
    assert manifest["department"]["id"] == "food_safety"
    for secret in ("score", "pd", "reason_1", "model_grade", "override_rule"):
        assert secret not in csv.columns


def test_grade_file_domain_keys_and_an_explicitly_allowed_pd(env):
    grades = env["grades"].read_grades()
    region = grades["region_code"].value_counts().index[0]
    section = grades["industry_section"].value_counts().index[0]
    write_policy(
        env,
        [
            {
                "id": "county_office",
                "name": "某市场监管所",
                "domain": {
                    "industry_sections": [section],
                    "regions": [region],
                    "entity_types": ["company"],
                },
                "columns": ["uscc", "grade", "region_code"],
                "confidential_columns": ["pd"],
            }
        ],
    )
    assert share(env, "county_office") == 0
    extract = pd.read_parquet(extract_dir(env, "county_office") / "extract.parquet")
    chosen = grades[
        (grades["industry_section"] == section)
        & (grades["region_code"] == region)
        & (grades["entity_type"] == "company")
    ]
    assert len(chosen) > 0
    assert list(extract.columns) == ["uscc", "grade", "region_code", "pd"]
    assert set(extract["uscc"]) == set(chosen["uscc"])
    merged = extract.merge(chosen[["uscc", "pd"]], on="uscc", suffixes=("", "_graded"))
    assert (merged["pd"] == merged["pd_graded"]).all()


def test_the_receiver_verifies_with_the_public_key_alone(env, tmp_path, monkeypatch, capsys):
    assert share(env, "special_equipment") == 0
    capsys.readouterr()
    bureau_key = keys.key_path()
    # the department's machine: another workspace, no key of the bureau's, no signing key
    received = tmp_path / "received"
    shutil.copytree(extract_dir(env, "special_equipment"), received)
    public = tmp_path / "bureau.pem"
    assert cli.main(["share", "--show-public-key"]) == 0
    printed = capsys.readouterr().out
    public.write_text(printed[: printed.index("-----END PUBLIC KEY-----") + 25], "ascii")
    assert public.read_bytes() == (received / "bureau_public_key.pem").read_bytes()
    department = tmp_path / "department"
    department.mkdir()
    (department / "pyproject.toml").write_text("# receiver\n")
    monkeypatch.setenv("WORKBENCH_HOME", str(department))
    monkeypatch.delenv(integrity.KEY_ENV_FILE)
    monkeypatch.setenv(keys.KEY_ENV_FILE, str(department / "absent.key"))

    assert cli.main(["verify", str(received), "--public-key", str(public)]) == 0
    out = capsys.readouterr().out
    assert "intact" in out and "NOT" not in out
    assert not (department / "absent.key").exists() and not (department / ".workbench").exists()
    assert bureau_key.is_file()  # the bureau's secret stayed where it was
    # without a public key there is nothing to check with: a one-line error, no key made
    assert cli.main(["verify", str(received)]) == 2
    err = capsys.readouterr().err
    assert "--public-key" in err and len(err.strip().splitlines()) == 1
    assert not (department / "absent.key").exists()
    # OpenSSL alone (the README's recipe) accepts the signature too
    if shutil.which("openssl"):
        done = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin"]
            + ["-in", str(received / "manifest.json"), "-sigfile", str(received / "manifest.sig")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_tampered_extract_fails_naming_the_file(env, tmp_path, capsys):
    assert share(env, "food_safety") == 0
    folder = extract_dir(env, "food_safety")
    public = folder / "bureau_public_key.pem"
    trusted = tmp_path / "trusted.pem"
    shutil.copy(public, trusted)

    def check(copy):
        capsys.readouterr()
        code = cli.main(["verify", str(copy), "--public-key", str(trusted)])
        return code, capsys.readouterr().out

    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    frame = pd.read_csv(changed / "extract.csv", encoding="utf-8-sig", dtype=str)
    frame.loc[frame["grade"] != "A", "grade"] = "A"  # every enterprise made low-risk
    frame.to_csv(changed / "extract.csv", index=False, encoding="utf-8-sig")
    code, out = check(changed)
    assert code == 4 and "NOT intact" in out and "changed: extract.csv" in out

    edited = tmp_path / "edited"  # the manifest re-hashed to match: its signature fails
    shutil.copytree(changed, edited)
    manifest = json.loads((edited / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["extract.csv"] = integrity.sha256_file(edited / "extract.csv")
    (edited / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    code, out = check(edited)
    assert code == 4 and "manifest.sig does not match manifest.json" in out

    added = tmp_path / "added"
    shutil.copytree(folder, added)
    (added / "extra.csv").write_text("uscc\n", encoding="utf-8")
    code, out = check(added)
    assert code == 4 and "added (not in the manifest): extra.csv" in out

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pem"
    other.write_bytes(keys.public_pem(Ed25519PrivateKey.generate().public_key()))
    capsys.readouterr()
    assert cli.main(["verify", str(folder), "--public-key", str(other)]) == 4
    assert "signed with another key" in capsys.readouterr().out
    code, out = check(folder)  # the original still verifies
    assert code == 0


def test_every_extract_is_in_the_access_register(env, capsys):
    assert share(env, "food_safety", "--requested-by", "=食品科 张三") == 0
    assert share(env, "special_equipment") == 0
    register = read_register()
    assert len(register.rows) == 2 and register.intact
    for row, dept in zip(register.rows, ("food_safety", "special_equipment"), strict=True):
        folder = extract_dir(env, dept)
        extract = pd.read_parquet(folder / "extract.parquet")
        digest = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
        assert row["month"] == env["month"] and row["department"] == dept
        assert int(row["enterprises"]) == len(extract)
        assert row["columns"].split(";") == list(extract.columns)
        assert row["manifest_sha256"] == digest and row["os_user"]
    assert register.rows[0]["requested_by"] == "'=食品科 张三"  # defused for spreadsheets
    capsys.readouterr()
    assert cli.main(["share", "--register"]) == 0
    out = capsys.readouterr().out
    assert "=食品科 张三" in out and "2 entries, hash chain intact" in out
    # an entry edited afterwards breaks the chain from there
    path = register.path
    text = path.read_text(encoding="utf-8-sig")
    first = register.rows[0]["enterprises"]
    path.write_text(text.replace(f'"{first}"', f'"{int(first) + 1}"', 1), "utf-8-sig")
    assert cli.main(["share", "--register"]) == 4
    assert "NOT intact: entry 1" in capsys.readouterr().out


def test_extract_register_and_key_are_owner_only(env):
    assert share(env, "food_safety") == 0
    sharing = env["home"] / "data" / "sharing"
    folder = extract_dir(env, "food_safety")
    for path in (sharing, sharing / env["month"], folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    files = [*folder.iterdir(), sharing / "register.csv", keys.key_path()]
    assert len(files) == 8
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_column_off_the_whitelist_is_refused_in_one_line(env, capsys):
    for columns, expected in (
        (["uscc", "name", "run_id"], "column 'run_id' is not shareable; allowed: uscc, name"),
        (["uscc", "pd"], "column 'pd' is confidential"),
    ):
        write_policy(env, [{"id": "food_safety", "name": "食品安全监管", "columns": columns}])
        assert share(env, "food_safety") == 2
        err = capsys.readouterr().err
        assert expected in err and "sharing.yaml" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (env["home"] / "data" / "sharing").exists()


def test_an_unknown_department_lists_the_allowed_ids(env, capsys):
    assert share(env, "tax_bureau") == 2
    err = capsys.readouterr().err
    ids = ", ".join(d["id"] for d in _default_policy()["departments"])
    assert f"unknown department 'tax_bureau'; allowed: {ids}" in err
    assert len(err.strip().splitlines()) == 1
    assert not (env["home"] / "data" / "sharing").exists()


def test_a_tampered_grade_folder_is_not_shared(env, tmp_path, capsys):
    copy = tmp_path / env["month"]
    shutil.copytree(env["grades"].path, copy)
    frame = pd.read_parquet(copy / "grades.parquet")
    frame["grade"] = "A"
    frame.to_parquet(copy / "grades.parquet", index=False)
    args = ["share", "--month", env["month"], "--department", "food_safety"]
    assert cli.main([*args, "--grades", str(copy)]) == 2
    assert "grades.parquet changed" in capsys.readouterr().err
    assert not (env["home"] / "data" / "sharing").exists()


def test_out_replaces_an_extract_but_nothing_else(env, tmp_path, capsys):
    out = tmp_path / "for-food"
    assert share(env, "food_safety", "--out", str(out)) == 0
    assert (out / "manifest.sig").is_file()
    assert share(env, "food_safety", "--out", str(out)) == 0  # an earlier extract: replaced
    assert len(read_register().rows) == 2
    occupied = tmp_path / "documents"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me", encoding="utf-8")
    inside = env["home"] / "data" / "grades" / env["month"] / "food"
    for refused, expected in ((occupied, "is not a department extract"), (inside, "inside")):
        capsys.readouterr()
        assert share(env, "food_safety", "--out", str(refused)) == 2
        assert expected in capsys.readouterr().err
    assert (occupied / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert not inside.exists() and len(read_register().rows) == 2
