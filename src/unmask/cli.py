"""The command line: parses arguments, calls :mod:`unmask.api`, shows progress, maps outcomes to exit codes.

Exit codes: 0 = nothing at or above ``--fail-on``; 1 = findings at or above it; 2 = bad usage or
unusable input (one line, no traceback); 3 = an internal error (a bug: please report it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from unmask import __version__
from unmask.errors import UnmaskError
from unmask.model import Severity, Status

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    console.print(f"[bold red]unmask:[/] {message}", soft_wrap=True)
    sys.exit(code)


def handled(func: F) -> F:
    """Turn unmask's errors into a one-line message and exit 2; other exceptions into exit 3."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UnmaskError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("UNMASK_DEBUG"):
                raise
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (set UNMASK_DEBUG=1 for a traceback)",
                EXIT_INTERNAL,
            )
        return None

    return wrapper  # type: ignore[return-value]


def _severity(_: click.Context, __: click.Parameter, value: str) -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="unmask")
def main() -> None:
    """unmask: find traces of mercenary spyware and stalkerware on phones."""


iocs_option = click.option(
    "--iocs",
    "-i",
    "iocs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="STIX 2 indicator file or folder (repeatable). Default: UNMASK_IOCS, else the bundled public sets.",
)
fail_on_option = click.option(
    "--fail-on",
    default="high",
    show_default=True,
    callback=_severity,
    help="Exit 1 when a finding is at or above this severity (info|low|medium|high|critical).",
)


@main.command("check-backup")
@click.argument("path", type=click.Path(path_type=Path))
@iocs_option
@click.option(
    "--output", "-o", type=click.Path(path_type=Path), help="Folder for the results (created if needed)."
)
@fail_on_option
@click.option(
    "--hash-all", is_flag=True, help="Hash every file of the evidence into info.json (slow on big backups)."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; only the verdict line.")
@handled
def check_backup(
    path: Path, iocs: Sequence[Path], output: Path | None, fail_on: Severity, hash_all: bool, quiet: bool
) -> None:
    """Check an unencrypted iPhone backup folder for spyware traces."""
    from unmask import api

    with _progress(quiet) as update:
        result = api.check_backup(path, iocs=iocs, output=output, progress=update, hash_all=hash_all)
    _summary(result, output, quiet)
    sys.exit(EXIT_FINDINGS if result.at_or_above(fail_on) else EXIT_CLEAN)


class _progress:
    """A rich progress bar on stderr whose update function the library calls."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet or (not console.is_terminal and not os.environ.get("UNMASK_PROGRESS"))
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> Callable[[str, int, int], None]:
        if self.quiet:
            return lambda *_: None
        self.bar = Progress(
            TextColumn("[bold]{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("loading indicators", total=None)

        def update(label: str, done: int, total: int) -> None:
            assert self.bar is not None
            self.bar.update(self.task, description=label, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _summary(result: Any, output: Path | None, quiet: bool) -> None:
    verdict = result.verdict()
    colour = {"detected": "red", "suspicious": "yellow", "clean": "green"}[verdict.level]
    if quiet:
        out.print(f"[{colour}]{verdict.headline}[/]")
        return
    meta = result.metadata
    device = " ".join(
        str(x)
        for x in (meta.get("product_type"), meta.get("ios_version") and f"iOS {meta['ios_version']}")
        if x
    )
    out.print(
        Panel(
            f"[bold {colour}]{verdict.headline}[/]\n{verdict.detail}",
            title=f"unmask {result.command}",
            subtitle=device or None,
            border_style=colour,
        )
    )
    counts = result.counts()
    out.print(
        "[bold]Alerts[/]: "
        + ", ".join(f"[{_STYLE[lvl.value]}]{counts[lvl.value]} {lvl.value}[/]" for lvl in reversed(list(Severity)))
    )
    notable = [f for f in result.findings if f.severity.rank >= Severity.LOW.rank]
    for f in notable[:25]:
        when = f.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC") if f.timestamp else "time unknown"
        out.print(f"  [{_STYLE[f.severity.value]}]{f.severity.value.upper():<8}[/] {when}  {f.message}", soft_wrap=True)
        if f.device_path:
            out.print(f"           [dim]{f.device_path}[/]", soft_wrap=True)
    if len(notable) > 25:
        out.print(f"  … and {len(notable) - 25} more in alerts.json")
    statuses = {s: [c for c in result.coverage if c.status is s] for s in Status}
    line = ", ".join(f"{len(v)} {k.value}" for k, v in statuses.items())
    out.print(f"[bold]Coverage[/]: {line}")
    for c in statuses[Status.FAILED] + statuses[Status.UNSUPPORTED]:
        out.print(f"  [yellow]{c.status.value}[/] {c.parser}: {c.reason}", soft_wrap=True)
    sets = result.indicator_sets
    out.print(
        f"[bold]Indicators[/]: {len(sets.indicators)} from {len(sets.sets)} file(s)"
        + (f", {sets.unsupported} pattern(s) not usable" if sets.unsupported else "")
    )
    if output is not None:
        out.print(f"[bold]Results[/]: {output}")


@main.group("iocs")
def iocs_group() -> None:
    """Indicator sets: list what is loaded, download updates."""


@iocs_group.command("list")
@iocs_option
@click.option("--json", "as_json", is_flag=True, help="Print the sets as JSON.")
@handled
def iocs_list(iocs: Sequence[Path], as_json: bool) -> None:
    """Show the indicator sets a scan would use, with counts per type."""
    import json

    from unmask.detect.indicators.sets import load_sets, resolve

    sets = load_sets(resolve(iocs))
    if as_json:
        click.echo(json.dumps([s.to_json() for s in sets.sets], indent=1))
        return
    table = Table(title=f"{len(sets.indicators)} unique indicators in {len(sets.sets)} file(s)")
    for col in ("file", "collections", "patterns", "by type", "unusable", "sha256"):
        table.add_column(col, overflow="fold")
    for s in sets.sets:
        collections = ", ".join(s.collections[:3]) + (
            f" +{len(s.collections) - 3}" if len(s.collections) > 3 else ""
        )
        by_type = ", ".join(f"{n} {t}" for t, n in sorted(s.by_type, key=lambda x: -x[1]))
        table.add_row(s.name, collections, str(s.indicators), by_type, str(s.unsupported), s.sha256[:12])
    out.print(table)


@iocs_group.command("update")
@click.option("--index", "index_url", default=None, help="URL or path of an indicators.yaml index.")
@click.option("--raw-base", default=None, hidden=True, help="Base URL replacing raw.githubusercontent.com.")
@handled
def iocs_update(index_url: str | None, raw_base: str | None) -> None:
    """Download the indicator sets named in an indicators.yaml index into the user data folder."""
    from unmask.detect.indicators.update import DEFAULT_INDEX, update

    report = update(
        index_url or DEFAULT_INDEX, raw_base=raw_base, log=lambda m: console.print(m, soft_wrap=True)
    )
    out.print(f"{len(report.saved)} set(s) saved to {report.folder}, {len(report.failed)} failed")
    for name, reason in report.failed:
        console.print(f"  [yellow]failed[/] {name}: {reason}", soft_wrap=True)
    if report.failed and not report.saved:
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":  # pragma: no cover
    main()
