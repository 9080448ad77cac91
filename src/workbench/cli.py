"""``workbench <command>``: the command line (命令行), derived from the stage registry.

Every stage of :mod:`workbench.stages.registry` becomes a sub-command whose options come
from its ``Parameters`` dataclass (help text included); the tools that are not stages
(the demo, verify, the contract, the configuration, JupyterLab, the MLflow UI) are listed
in :data:`TOOLS`. An error the user can cause (:class:`~workbench.errors.WorkbenchError`)
is printed on one line with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from workbench.errors import WorkbenchError

#: Commands that are not stages: name → (中文名, help).
TOOLS = {
    "demo": ("演示：月度流程", "the monthly cycle on the generated demo city"),
    "synth": ("合成演示城市", "generate a synthetic demo city with a hidden truth"),
    "verify": ("完整性校验", "check a signed folder byte for byte against its manifest"),
    "contract": ("数据接口规范", "print or write the data contract document"),
    "config": ("配置", "print the effective configuration and where each piece came from"),
    "share": (
        "分类结果共享",
        "a department's signed extract of a month's grades (internal to government)",
    ),
    "lab": ("JupyterLab", "JupyterLab on notebooks/ with this environment (loopback only)"),
    "ui": ("MLflow UI", "the MLflow UI on loopback against the workbench store"),
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: One vocabulary: an option naming a month reads YYYY-MM (``--month``), one naming a day
#: YYYY-MM-DD (``--as-of``); the placeholder says which wherever a stage did not set one.
MONTH_OPTIONS = ("month", "previous")
DAY_OPTIONS = ("as_of", "validation_from", "published_on")


def _command_list() -> str:
    from workbench.stages import registry

    rows = [(s.name, s.title, s.help) for s in registry.STAGES]
    rows += [(name, title, help_) for name, (title, help_) in TOOLS.items()]
    width = max(len(r[0]) for r in rows)
    return "commands:\n" + "\n".join(f"  {n:<{width}}  {h} ({t})" for n, t, h in rows)


# --------------------------------------------------------------------------- stages


def _add_stage_options(parser: argparse.ArgumentParser, stage) -> None:
    """One option per ``Parameters`` field, typed, with its help text."""
    for f in stage.fields():
        meta = f.metadata
        if not meta.get("cli", True):
            continue
        kwargs: dict = {"help": meta["help"], "dest": f.name}
        if meta.get("choices"):
            kwargs["choices"] = meta["choices"]
        if meta.get("metavar"):
            kwargs["metavar"] = meta["metavar"]
        elif f.name in MONTH_OPTIONS or f.name in DAY_OPTIONS:
            kwargs["metavar"] = "YYYY-MM" if f.name in MONTH_OPTIONS else "YYYY-MM-DD"
        if meta.get("positional"):
            parser.add_argument(
                f.name,
                nargs="?",
                default=f.default,
                **{k: v for k, v in kwargs.items() if k != "dest"},
            )
            continue
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        if isinstance(f.default, bool):
            action = "store_false" if f.default else "store_true"
            parser.add_argument(
                flag,
                action=action,
                default=f.default,
                **{k: v for k, v in kwargs.items() if k != "metavar"},
            )
        elif isinstance(f.default, int):
            parser.add_argument(flag, type=int, default=f.default, **kwargs)
        else:
            parser.add_argument(flag, default=f.default, **kwargs)
    if stage.notebook:
        parser.add_argument(
            "--no-notebook",
            action="store_true",
            help=f"skip notebooks/{stage.notebook} and its HTML page (faster, for scripts)",
        )


def _run_stage(args: argparse.Namespace) -> int:
    from workbench.stages import registry, runner

    stage = registry.get(args.command)
    values = {f.name: getattr(args, f.name, f.default) for f in stage.fields()}
    params = stage.parameters(**values)
    outcome = runner.execute(stage, params, notebook=not getattr(args, "no_notebook", False))
    for line in runner.describe(outcome):
        print(line)
    return int(outcome.summary.get("exit_code", 0))


# --------------------------------------------------------------------------- tools


def _check_city(args: argparse.Namespace) -> None:
    """Refuse a city the generator cannot build before any work, with its own bounds."""
    from workbench.demo.synth import ENTITIES, MAX_ERROR_RATE
    from workbench.errors import ParameterError

    low, high = ENTITIES
    if not low <= args.entities <= high:
        raise ParameterError(f"--entities {args.entities}: allowed {low:,} … {high:,}")
    if args.months is not None and args.months < 1:
        raise ParameterError(f"--months {args.months}: at least one month")
    errors = getattr(args, "errors", 0.0)
    if not 0 <= errors < MAX_ERROR_RATE:
        raise ParameterError(
            f"--errors {errors}: a share, at least 0 and below {MAX_ERROR_RATE} (e.g. 0.002)"
        )


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the monthly cycle on the demo city (generated first when needed)."""
    from workbench import cycle

    _check_city(args)

    return cycle.run_demo(
        entities=args.entities, months=args.months, seed=args.seed, cycle_months=args.cycle
    )


def cmd_synth(args: argparse.Namespace) -> int:
    """Generate a synthetic city (the demo, or one unlike it: see ``CityProfile``)."""
    from workbench import cycle
    from workbench.demo.synth.profile import OPTIONAL_TABLES, CityProfile
    from workbench.errors import ParameterError
    from workbench.workspace.folders import check_day

    _check_city(args)
    check_day(args.end, "--as-of")
    absent = tuple(t.strip() for t in args.without.split(",") if t.strip())
    unknown = [t for t in absent if t not in OPTIONAL_TABLES]
    if unknown:
        raise ParameterError(
            f"--without {', '.join(unknown)}: allowed {', '.join(OPTIONAL_TABLES)}"
        )
    if args.history is not None and args.history < 1:
        raise ParameterError(f"--history {args.history}: at least one month")
    months = args.months or max(36, args.history or 0)  # the truth covers the history shown
    profile = CityProfile(
        place=args.place,
        industry_mix=args.industry_mix,
        risk=args.risk,
        history_months=args.history,
        absent=absent,
    )
    return cycle.generate_city(
        out=args.out,
        entities=args.entities,
        months=months,
        seed=args.seed,
        end=args.end,
        messy=args.messy,
        errors=args.errors,
        profile=profile,
    )


def cmd_verify(args: argparse.Namespace) -> int:
    """Say whether any byte of a signed folder changed, and which file."""
    from workbench import sharing
    from workbench.errors import ParameterError
    from workbench.workspace import integrity

    if not Path(args.folder).is_dir():
        state = "is not a folder" if Path(args.folder).exists() else "does not exist"
        raise ParameterError(
            f"{args.folder} {state}: give a signed folder (e.g. data/grades/2026-09) "
            "or a department extract"
        )
    if sharing.is_extract(args.folder):
        result = sharing.verify_extract(args.folder, args.public_key or None)
    elif args.public_key:
        raise ParameterError(
            f"{args.folder} is not a department extract: --public-key checks extracts only "
            "(grade folders are checked with the workspace's signing key)"
        )
    else:
        result = integrity.verify(args.folder)
    print(result.message())
    return 0 if result.ok else 4


def cmd_contract(args: argparse.Namespace) -> int:
    """Print or write the contract document."""
    from workbench import contract
    from workbench.errors import ParameterError

    text = contract.render_markdown()
    if args.write:
        target = Path(args.write)
        if not target.parent.is_dir():
            raise ParameterError(
                f"--write {args.write}: folder {target.parent} does not exist; "
                "write into an existing folder"
            )
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as err:
            raise ParameterError(f"--write {args.write}: cannot write ({err.strerror})") from None
        print(f"wrote {args.write}")
    else:
        print(text)
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective configuration: each piece, bureau or default, and its file."""
    from workbench import config

    settings = config.load_settings(args.conf) if args.conf else config.current()
    problems = {
        s.piece: problem for s in settings.sources if (problem := _config_problem(s, settings))
    }
    where = settings.folder or f"{config.conf_dir()} (absent: package defaults only)"
    print(f"configuration folder: {where}")
    print(f"fingerprint: {settings.fingerprint}")
    width = max(len(row["piece"]) for row in settings.describe())
    for row in settings.describe():
        state = "  INVALID" if row["piece"] in problems else ""
        print(
            f"  {row['piece']:<{width}}  {row['origin']:<7}  {row['path']}  ({row['what']}){state}"
        )
    if problems:
        for problem in problems.values():
            print(f"workbench config: error: {_one_line(problem)}", file=sys.stderr)
        return 2
    exports = settings.exports
    print(f"exports folder: {exports if exports else 'not set (workbench ingest needs --data)'}")
    return 0


def _config_problem(source, settings) -> str:
    """Load one piece of configuration with the loader the stages use: '' or the error."""
    from workbench.config.regions import region_names
    from workbench.governance.gates import load_gates
    from workbench.grading.overrides import load_rules
    from workbench.indicators.catalog import load_catalog
    from workbench.sampling.plan import load_plan
    from workbench.scoring.grades import load_schemes
    from workbench.scoring.labels import load_label_definition
    from workbench.sharing.policy import load_policy

    generic = settings.catalogs.get("generic")
    piece, _, name = source.piece.partition("/")
    loaders = {
        "settings": lambda path: settings.exports,
        "labels": load_label_definition,
        "grade_schemes": load_schemes,
        "gates": load_gates,
        "overrides": load_rules,
        "regions": lambda path: region_names(str(path)),
        "sharing": load_policy,
        "plans": load_plan,
        "catalogs": lambda path: (
            load_catalog(path) if name == "generic" else load_catalog(generic, [str(path)])
        ),
    }
    try:
        loaders[piece](source.path)
    except WorkbenchError as err:
        return str(err)
    return ""


def cmd_share(args: argparse.Namespace) -> int:
    """Write a department's extract; or list departments, the register, the public key."""
    from workbench import sharing
    from workbench.sharing import keys
    from workbench.workspace import csvsafe

    if args.show_public_key:
        public = keys.bureau_public_key()
        print(keys.public_pem(public).decode("ascii"), end="")
        print(f"fingerprint (SHA-256): {keys.spaced(keys.fingerprint(public))}")
        print(f"file: {keys.public_key_path()}")
        return 0
    if args.register:
        register = sharing.read_register()
        shown = ("recorded_at", "os_user", "requested_by", "month", "department")
        for row in register.rows:
            cells = [str(csvsafe.restore_value(row[f])) or "-" for f in shown]
            print(
                "  ".join(cells)
                + f"  {row['enterprises']} enterprises  columns {row['columns']}"
                + f"  manifest {row['manifest_sha256'][:16]}"
            )
        state = (
            "hash chain intact"
            if register.intact
            else f"NOT intact: entry {register.broken_at} was changed, removed or inserted"
        )
        print(f"access register {register.path}: {len(register.rows)} entries, {state}")
        return 0 if register.intact else 4
    if args.list:
        for dept in sharing.policy().departments:
            domain = "; ".join(f"{k}: {', '.join(v)}" for k, v in dept.domain.as_dict().items())
            print(f"{dept.id}  {dept.name}  columns {', '.join(dept.columns)}")
            print(f"    domain: {domain or 'every enterprise'}")
        return 0
    s = sharing.build_extract(
        args.month,
        args.department,
        out=args.out,
        grades=args.grades,
        requested_by=args.requested_by,
    )
    print(
        f"extract of {s['month']} for {s['department_name']} ({s['department']}): "
        f"{s['enterprises']:,} of {s['graded']:,} graded enterprises, columns "
        f"{', '.join(s['columns'])}"
    )
    print(f"  folder (internal, owner-only): {s['folder']}")
    print(f"  signed with Ed25519, public key {s['public_key']}")
    print(f"  key fingerprint (SHA-256): {keys.spaced(s['key_fingerprint'])}")
    print("  the department checks it with: workbench verify FOLDER --public-key KEY.pem")
    print(f"  recorded in the access register {s['register']}")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    """Start JupyterLab on notebooks/ (loopback only), until Ctrl-C or SIGTERM."""
    from workbench.lab import run_lab

    return run_lab(host=args.host, port=args.port)


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the MLflow UI on loopback against the workbench store, until Ctrl-C."""
    import contextlib
    import signal

    from workbench import governance

    # a service manager (or a test) stops us with SIGTERM: leave through the context
    # manager so the server it started (its own process group) stops too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = governance.MLflowServer(
        args.backend_store_uri or None, args.artifact_root or None, host=args.host, port=args.port
    )
    with server:
        store = governance.redact_uri(server.backend_uri)
        print(f"MLflow UI on {server.url} (store {store}; Ctrl-C stops it)")
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
    return 0


def _add_tools(sub) -> None:
    p = sub.add_parser("demo", description=TOOLS["demo"][1])
    p.add_argument("--entities", type=int, default=100_000, help="enterprises in the demo city")
    p.add_argument("--months", type=int, default=36, help="months of city history")
    p.add_argument("--seed", type=int, default=2026, help="seed of the generated city")
    p.add_argument(
        "--cycle",
        type=int,
        default=6,
        metavar="MONTHS",
        help="consecutive months the cycle runs, ending the month before the data's last",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("synth", description=TOOLS["synth"][1])
    p.add_argument("--entities", type=int, default=100_000, help="enterprises in the city")
    p.add_argument(
        "--months",
        type=int,
        default=None,
        help="months the hidden truth covers (default: 36, or --history when longer); "
        "events start in 2014 unless --history",
    )
    p.add_argument("--seed", type=int, default=2026, help="seed (same seed, same bytes)")
    p.add_argument(
        "--as-of",
        "--end",
        dest="end",
        default="2026-10-31",
        metavar="YYYY-MM-DD",
        help="the export's last day (数据基准日): history ends there (--end: the former name)",
    )
    p.add_argument("--out", help="output folder (default: data/city)")
    p.add_argument(
        "--messy",
        action="store_true",
        help="write some tables as GBK CSV / XLSX / Parquet with Chinese headers",
    )
    p.add_argument(
        "--errors",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="corrupt this share of event rows on purpose (e.g. 0.002), "
        "listed in _truth/injected_errors.csv",
    )
    p.add_argument(
        "--history",
        type=int,
        metavar="MONTHS",
        help="the export holds only the last MONTHS months of events (default: since 2014)",
    )
    p.add_argument(
        "--without",
        default="",
        metavar="TABLES",
        help="tables the bureau does not have, comma-separated (e.g. judicial,licenses)",
    )
    p.add_argument(
        "--place",
        default="pingdingshan",
        choices=("pingdingshan", "tonghua"),
        help="the prefecture: its counties, codes and names",
    )
    p.add_argument(
        "--industry-mix",
        default="default",
        choices=("default", "industrial", "services"),
        help="the mix of industries",
    )
    p.add_argument(
        "--risk",
        default="default",
        choices=("default", "events", "attributes", "latent"),
        help="what drives the hidden risk: the demo's mix, past events, register "
        "attributes, or mostly latent",
    )
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("verify", description=TOOLS["verify"][1])
    p.add_argument(
        "folder", help="a signed folder, e.g. data/grades/2026-09, or a department extract"
    )
    p.add_argument(
        "--public-key",
        default="",
        metavar="FILE",
        help="for a department extract: the bureau's Ed25519 public key (PEM) to check it "
        "with (default on the bureau's machine: its own); no secret key is needed",
    )
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("contract", description=TOOLS["contract"][1])
    p.add_argument(
        "--write", metavar="PATH", help="write the Markdown here (e.g. docs/data-contract.md)"
    )
    p.set_defaults(func=cmd_contract)

    p = sub.add_parser("config", description=TOOLS["config"][1])
    p.add_argument(
        "--conf",
        metavar="FOLDER",
        help="a configuration folder to show (default: $WORKBENCH_CONF, else conf/)",
    )
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("share", description=TOOLS["share"][1])
    p.add_argument(
        "--month",
        default="",
        metavar="YYYY-MM",
        help="grade month YYYY-MM (default: the latest graded)",
    )
    p.add_argument(
        "--department",
        default="",
        metavar="ID",
        help="the receiving department's id in sharing.yaml (`--list` shows them)",
    )
    p.add_argument(
        "--out",
        default="",
        metavar="DIR",
        help="extract folder (default: data/sharing/<YYYY-MM>/<department>/); an earlier "
        "extract there is replaced, any other existing folder refused",
    )
    p.add_argument(
        "--grades",
        default="",
        metavar="DIR",
        help="the signed grade folder to read (default: data/grades/<YYYY-MM>); it must verify",
    )
    p.add_argument(
        "--requested-by",
        default="",
        metavar="WHO",
        help="who asked for the extract (申请人), recorded in the access register beside "
        "the OS user",
    )
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--list", action="store_true", help="list the configured departments and exit"
    )
    shown.add_argument(
        "--register",
        action="store_true",
        help="print the access register (访问登记) and check its hash chain (exit 4 if broken)",
    )
    shown.add_argument(
        "--show-public-key",
        action="store_true",
        help="print the bureau's Ed25519 public key (PEM) and its fingerprint, to hand to "
        "a department once (created on first use)",
    )
    p.set_defaults(func=cmd_share)

    p = sub.add_parser("lab", description=TOOLS["lab"][1])
    p.add_argument("--host", default="127.0.0.1", choices=LOOPBACK, help="loopback address")
    p.add_argument("--port", type=int, default=8888, help="port to listen on")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("ui", description=TOOLS["ui"][1])
    p.add_argument("--port", type=int, default=5000, help="port on the loopback host")
    p.add_argument(
        "--host", default="127.0.0.1", choices=LOOPBACK, help="loopback address to listen on"
    )
    p.add_argument(
        "--backend-store-uri",
        default="",
        metavar="URI",
        help="runs and registry: postgresql://user@host/db for the shared store "
        "(default: $WORKBENCH_MLFLOW_URI, else the local mlflow/mlflow.db)",
    )
    p.add_argument(
        "--artifact-root",
        default="",
        metavar="DIR",
        help="artifact folder every reviewer's machine reaches (default: "
        "$WORKBENCH_MLFLOW_ARTIFACTS, else mlflow/artifacts)",
    )
    p.set_defaults(func=cmd_ui)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per registered stage, then the tools."""
    from workbench.stages import registry

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="企业信用风险分类与双随机抽查工作台 (workbench)",
        epilog=_command_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    # sub-commands are listed once, in the epilog (argparse would list them a second time)
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for stage in registry.STAGES:
        p = sub.add_parser(stage.name, description=f"{stage.title}: {stage.help}")
        _add_stage_options(p, stage)
        p.set_defaults(func=_run_stage)
    _add_tools(sub)
    return parser


def _one_line(message: str) -> str:
    return " — ".join(part.strip() for part in str(message).splitlines() if part.strip())


#: Exit code when the reader of our output went away (``workbench contract | head``):
#: what a command killed by SIGPIPE returns, as ``head``'s other writers do.
EXIT_PIPE_CLOSED = 128 + 13


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbench`` command.

    Output piped into a reader that stops early (``| head``) ends the command quietly with
    :data:`EXIT_PIPE_CLOSED`, never a BrokenPipeError traceback.
    """
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        # nothing more can be written: point stdout at /dev/null so the interpreter's
        # final flush does not complain either (the Python documentation's recipe)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE_CLOSED


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # MLflow logs its bookkeeping at INFO on its own handler
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        logging.getLogger("mlflow").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except WorkbenchError as err:
        print(f"workbench {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        from workbench.sampling.replay import ReplayMismatch

        if isinstance(err, ReplayMismatch):
            print(f"workbench {args.command}: the replay differs: {err}", file=sys.stderr)
            return 4
        raise


if __name__ == "__main__":
    sys.exit(main())
