"""The ``diligence`` command line (SPEC §7). Exit codes: 0 done, 2 bad input or
arguments, 1 anything else, 130 interrupted by Ctrl+C (143 by SIGTERM). Errors are messages, never tracebacks (set
``DILIGENCE_DEBUG=1`` to see one)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback

from rich.console import Console
from rich.markup import escape

from diligence.errors import DiligenceError, InputError, Interrupted
from diligence.execution.outputs import FILES

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, markup=False, soft_wrap=True)


def _params_from(path: str | None) -> dict:
    from diligence.params import load_params_file

    return load_params_file(path) if path else {}


def cmd_run(args: argparse.Namespace) -> int:
    from diligence.execution.run import run_company

    result = run_company(
        args.data,
        args.company,
        args.out,
        as_of=args.as_of,
        params=_params_from(args.params),
        mapping=args.mapping,
        prepared_by=args.prepared_by or "",
        formats=args.formats,
        jobs=args.jobs,
        on_step=lambda step: err.print(f"  running {step}"),
        force=args.force,
        previous=args.previous,
    )
    _print_done(result)
    return 0


def _print_done(result) -> None:
    flags = result.findings.get("flags", [])
    raised = [f["id"] for f in flags if f["status"] == "triggered"]
    written = [name for name in FILES.values() if (result.out / name).is_file()]
    head = result.out / (written[0] if written else "findings.json")
    out.print(f"Report written to {head} ({result.seconds:.0f} s)")
    for name, label in (("report.xlsx", "workbook"), ("report.pptx", "deck"), ("report.pdf", "pdf")):
        if name in written and head.name != name:
            out.print(f"  {label}: {result.out / name}")
    out.print(f"  findings: {result.out / 'findings.json'}")
    out.print(f"  flags raised: {', '.join(raised) if raised else 'none'}")
    if result.timings:
        spent = " · ".join(f"{name.split('_')[0]} {s:.1f}" for name, s in result.timings.items())
        out.print(f"  seconds: {spent}")
    for note in result.notes:
        err.print(f"note: {escape(note)}")


def cmd_validate(args: argparse.Namespace) -> int:
    from diligence.intake import format_issues, load_company

    intake = load_company(args.data, mapping=args.mapping, as_of=args.as_of)
    for table, frame in intake.tables.items():
        out.print(f"{table:<20} {len(frame):>10,} rows  ({intake.sources.get(table, '')})")
    if intake.issues:
        out.print(format_issues(intake.issues))  # the table ends with the counts
    else:
        out.print("0 error(s), 0 warning(s).")
    return 2 if intake.errors else 0


def cmd_synth(args: argparse.Namespace) -> int:
    from diligence.synth import later_quarter, make_company, write_company

    if args.after:
        from diligence.execution.previous import load_previous

        if args.days < 1:
            raise InputError(f"--days: give a positive number of days, got {args.days!r}.")
        earlier = load_previous(args.after, option="--after")
        if not earlier.tables:
            raise InputError(f"--after {args.after}: its work/tables folder is missing; give a run's output folder.")
        if not 0 <= args.carried <= 1:
            raise InputError(f"--carried: give a share between 0 and 1, got {args.carried!r}.")
        tables = later_quarter(
            earlier.tables, earlier.as_of, moves=earlier.plan, carried=args.carried, days=args.days, seed=args.seed
        )
        path = write_company(tables, args.out, fmt=args.format)
        out.print(f"The company of {args.after}, {args.days} days after {earlier.as_of}, written to {path}")
        return 0
    try:
        tables = make_company(n_accounts=args.accounts, seed=args.seed, profile=args.profile)
    except ValueError as exc:  # the generator checks its arguments: say so as bad arguments
        raise InputError(f"synth: {exc}.") from None
    path = write_company(tables, args.out, fmt=args.format)
    out.print(f"Synthetic company ({args.profile}, {args.accounts:,} accounts) written to {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from diligence.execution.outdir import check_out
    from diligence.execution.run import run_company
    from diligence.synth import DEMO_AS_OF, make_company, write_company

    started = time.perf_counter()
    target = check_out(args.out)  # the demo writes its data inside: the folder must be the kit's
    data = write_company(make_company(), target / "data")
    err.print(f"Demo company data written to {data}")
    result = run_company(
        data,
        "Demo Company",
        target,
        as_of=DEMO_AS_OF,
        prepared_by="Coverage diligence kit (demo)",
        formats=args.formats,
        jobs=args.jobs,
        on_step=lambda step: err.print(f"  running {step}"),
        force=True,  # beside its own data/ folder
    )
    result.seconds = time.perf_counter() - started
    _print_done(result)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from diligence.execution.batch import BatchProgress, run_batch

    progress = BatchProgress(err)
    try:
        result = run_batch(
            args.portfolio,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            force=args.force,
            timeout=args.timeout,
            formats=args.formats,
            on_start=progress.start,
            on_result=progress.done,
            previous=args.previous,
        )
    finally:
        progress.stop()
    n_failed = len(result.failed)
    if result.interrupted:
        n_done = sum(1 for r in result.results if r["status"] in ("ok", "skipped"))
        err.print(f"interrupted: {n_done} of {len(result.results)} companies finished; the roll-up says which")
    out.print(
        f"Portfolio written to {result.paths['html']} ({result.seconds:.0f} s): "
        f"{len(result.companies) - n_failed} report(s), {n_failed} failed"
    )
    out.print(f"  workbook: {result.paths['xlsx']}")
    if "pptx" in result.paths:
        out.print(f"  deck: {result.paths['pptx']}")
    out.print(f"  roll-up: {result.paths['json']}")
    for entry in result.failed:
        first = str(entry["error"] or "").splitlines()[0] if entry["error"] else ""
        out.print(f"  failed: {entry['company']}: {first}")
    for note in result.notes:
        err.print(f"note: {escape(note)}")
    return result.exit_code


def cmd_kernel_install(args: argparse.Namespace) -> int:
    from diligence.execution.kernel import DEFAULT_KERNEL, install_kernel

    where = install_kernel(args.name or DEFAULT_KERNEL, user=args.user)
    out.print(f"Jupyter kernel '{where.name}' installed in {where} (it starts {sys.executable})")
    return 0


_JOBS_HELP = "steps run side by side, each in its own kernel (default: the cores, at most 4; 1: one after the other)"
_FORMATS_HELP = (
    "deliverables to write, comma-separated: html, xlsx, pptx, pdf (default: all that can be made here; "
    "findings.json and the executed notebooks are always written; pdf needs a Chromium)"
)


def build_parser() -> argparse.ArgumentParser:
    import diligence

    parser = argparse.ArgumentParser(
        prog="diligence",
        description="Sales coverage diligence from CRM exports: report.html, report.xlsx, report.pptx, report.pdf, "
        "findings.json.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {diligence.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole diagnostic on one company")
    run.add_argument("data", help="folder of tables, a .zip archive of them, or one workbook")
    run.add_argument("--company", required=True, help="company name shown in the report")
    run.add_argument("--as-of", dest="as_of", help="as-of date T, YYYY-MM-DD (default: today)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--params", help="YAML file of parameter overrides")
    run.add_argument("--mapping", help="column mapping: a YAML file or a preset name (e.g. salesforce)")
    run.add_argument("--prepared-by", dest="prepared_by", help="the 'prepared by' line of the report cover")
    run.add_argument("--formats", help=_FORMATS_HELP)
    run.add_argument("--jobs", type=int, help=_JOBS_HELP)
    run.add_argument(
        "--previous",
        metavar="DIR",
        help="an earlier run's output folder: the report, workbook and findings.json say what changed since",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that is neither empty nor an earlier report (its report.*, "
        "findings.json, notebooks/ and work/ are replaced; other files are kept)",
    )
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check a company's data without running the report")
    val.add_argument("data", help="folder of tables, a .zip archive of them, or one workbook")
    val.add_argument("--mapping")
    val.add_argument("--as-of", dest="as_of")
    val.set_defaults(func=cmd_validate)

    syn = sub.add_parser("synth", help="write a synthetic company's data")
    syn.add_argument("--out", required=True)
    syn.add_argument("--accounts", type=int, default=3000)
    syn.add_argument("--seed", type=int, default=7)
    syn.add_argument("--profile", choices=("demo", "healthy"), default="demo")
    syn.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv")
    syn.add_argument(
        "--after",
        metavar="RUN",
        help="write the company of an earlier run's output folder a quarter later instead, part of its "
        "rebalanced plan carried out",
    )
    syn.add_argument("--carried", type=float, default=0.6, help="with --after: share of the plan's moves made")
    syn.add_argument("--days", type=int, default=91, help="with --after: days after the run's as-of date")
    syn.set_defaults(func=cmd_synth)

    demo = sub.add_parser("demo", help="make the example company's data and run the report on it")
    demo.add_argument("--out", required=True)
    demo.add_argument("--formats", help=_FORMATS_HELP)
    demo.add_argument("--jobs", type=int, help=_JOBS_HELP)
    demo.set_defaults(func=cmd_demo)

    batch = sub.add_parser("batch", help="run every company of a portfolio file and compare them side by side")
    batch.add_argument("portfolio", help="portfolio YAML file (SPEC §7); its paths are relative to it")
    batch.add_argument(
        "--out", required=True, help="output folder: one folder per company, and portfolio.html/.xlsx/.json"
    )
    batch.add_argument(
        "--workers",
        type=int,
        help="local worker processes (default: the number of CPUs; the cluster decides with --scheduler)",
    )
    batch.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    batch.add_argument("--force", action="store_true", help="re-run companies whose outputs are up to date")
    batch.add_argument("--timeout", type=float, default=1800.0, help="seconds one company may take (default 1800)")
    batch.add_argument("--formats", help=_FORMATS_HELP)
    batch.add_argument(
        "--previous",
        metavar="DIR",
        help="an earlier batch's output folder: each company is compared with its report there (by slug) "
        "and the roll-up shows each company's trend across the runs found",
    )
    batch.set_defaults(func=cmd_batch)

    kernel = sub.add_parser("kernel", help="the Jupyter kernel the step notebooks run in")
    kernel_sub = kernel.add_subparsers(dest="kernel_command", required=True)
    install = kernel_sub.add_parser(
        "install",
        help="install the kernel 'diligence' for this environment (a run does it too when the kernel is missing)",
    )
    install.add_argument("--user", action="store_true", help="into your own Jupyter folder, not this environment's")
    install.add_argument("--name", help="kernel name (default: diligence)")
    install.set_defaults(func=cmd_kernel_install)
    return parser


def _stop_on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signum, signal.SIG_IGN)  # once: the clean-up it starts must not be cut short
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)  # a scheduler's stop cleans up as Ctrl+C does
    except ValueError:  # not the main thread (called from a test's thread)
        previous = None
    try:
        return _main(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except InputError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        for problem in exc.problems:
            err.print(f"  - {escape(str(problem))}", soft_wrap=True)
        return exc.exit_code
    except DiligenceError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        err.print("interrupted")
        return 128 + getattr(exc, "signum", signal.SIGINT)
    except Exception as exc:
        if os.environ.get("DILIGENCE_DEBUG"):
            traceback.print_exc()
        err.print(
            f"[bold red]unexpected error:[/] {type(exc).__name__}: {escape(str(exc))} (set DILIGENCE_DEBUG=1 for details)"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
