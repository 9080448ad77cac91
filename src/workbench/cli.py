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
    "lab": ("JupyterLab", "JupyterLab on notebooks/ with this environment (loopback only)"),
    "ui": ("MLflow UI", "the MLflow UI on loopback against the workbench store"),
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


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


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the monthly cycle on the demo city (generated first when needed)."""
    from workbench import cycle

    return cycle.run_demo(
        entities=args.entities, months=args.months, seed=args.seed, cycle_months=args.cycle
    )


def cmd_synth(args: argparse.Namespace) -> int:
    """Generate a synthetic city (the demo, or one unlike it: see ``CityProfile``)."""
    from workbench import cycle
    from workbench.demo.synth.profile import OPTIONAL_TABLES, CityProfile
    from workbench.errors import ParameterError

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
    from workbench.workspace import integrity

    result = integrity.verify(args.folder)
    print(result.message())
    return 0 if result.ok else 4


def cmd_contract(args: argparse.Namespace) -> int:
    """Print or write the contract document."""
    from workbench import contract

    text = contract.render_markdown()
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        print(text)
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective configuration: each piece, bureau or default, and its file."""
    from workbench import config

    settings = config.load_settings(args.conf) if args.conf else config.current()
    where = settings.folder or f"{config.conf_dir()} (absent: package defaults only)"
    print(f"configuration folder: {where}")
    print(f"fingerprint: {settings.fingerprint}")
    width = max(len(row["piece"]) for row in settings.describe())
    for row in settings.describe():
        print(f"  {row['piece']:<{width}}  {row['origin']:<7}  {row['path']}  ({row['what']})")
    exports = settings.exports
    print(f"exports folder: {exports if exports else 'not set (workbench ingest needs --data)'}")
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
    p.add_argument("--end", default="2026-10-31", help="last day of the window (the snapshot)")
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
    p.add_argument("folder", help="a signed folder, e.g. data/grades/2026-09")
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbench`` command."""
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
