"""The command line: parses arguments, calls :mod:`unmask.api`, shows progress, maps outcomes to exit codes.

Exit codes: 0 = nothing at or above ``--fail-on``; 1 = findings at or above it; 2 = bad usage or
unusable input (one line, no traceback); 3 = an internal error (a bug: please report it).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from unmask import __version__
from unmask.budget import DEFAULT as DEFAULT_BUDGET
from unmask.budget import Budget
from unmask.errors import UnmaskError
from unmask.model import Severity, Status
from unmask.safetext import for_console as _e

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}

F = TypeVar("F", bound=Callable[..., Any])
# Evidence values pass through _e (safetext.for_console) before they reach either console: no
# markup, escape sequences or emoji codes from a phone are interpreted.
console = Console(stderr=True, highlight=False, emoji=False)
out = Console(highlight=False, emoji=False)


class _Terminated(BaseException):
    """SIGTERM during a scan or a decryption: unwinds like Ctrl-C, so that the private temporary
    folder (decrypted files) and a half-written output folder are removed. SIGKILL cannot be
    caught: then they stay behind."""


@contextmanager
def _terminating() -> Iterator[None]:
    """Turn SIGTERM into :class:`_Terminated` for the time of the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    console.print(f"[bold red]unmask:[/] {_e(message)}", soft_wrap=True)
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
        except _Terminated:
            _fail("terminated", 143)
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


case_option = click.option(
    "--case", envvar="UNMASK_CASE", default=None, metavar="NAME",
    help="Record the scan into this case of the case store (default: UNMASK_CASE). See 'unmask cases'.")
store_option = click.option(
    "--store", default=None, metavar="URL",
    help="The case store: a SQLite file or postgresql://… (default: UNMASK_STORE, else the user's own store).")


def _scan_options(func: F) -> F:
    """The options every scan command takes (``check`` and the explicit verbs)."""
    options = [
        iocs_option,
        click.option("--output", "-o", type=click.Path(path_type=Path),
                     help="Folder for the results (created if needed)."),
        fail_on_option,
        click.option("--hash-all", is_flag=True,
                     help="Hash every file of the evidence into info.json, and match the hashes of every file of "
                          "a full-filesystem dump (slow on big acquisitions)."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar; only the verdict line."),
        click.option("--no-screen", is_flag=True, help="Do not screen message attachments for exploit payloads."),
        click.option("--password-file", type=click.Path(path_type=Path),
                     help="File holding the password of encrypted evidence (default: UNMASK_BACKUP_PASSWORD, "
                          "else a prompt). Never give a password on the command line."),
        click.option("--age-identity", type=click.Path(path_type=Path),
                     help="age identity file (AGE-SECRET-KEY-1…) of an age-encrypted AndroidQF acquisition (.zip.age)."),
        click.option("--key-file", type=click.Path(path_type=Path),
                     help="A key saved by 'unmask backup-key' instead of the password (skips key derivation)."),
        click.option("--budget-seconds", type=click.FloatRange(1, 86400), default=DEFAULT_BUDGET.seconds,
                     show_default=True,
                     help="Wall time one parser (or one heuristic) may spend before it is stopped as failed."),
        click.option("--budget-memory", type=click.IntRange(64, 1 << 20), default=DEFAULT_BUDGET.memory_mb,
                     show_default=True, metavar="MB",
                     help="Memory one parser may make unmask grow by before it is stopped as failed."),
        click.option("--budget-temp", type=click.IntRange(16, 1 << 24), default=DEFAULT_BUDGET.temp_mb,
                     show_default=True, metavar="MB",
                     help="Temporary disk one artefact may take (private copies, recovery, extraction)."),
        click.option("--intel-server", metavar="URL", help="Match confidentially against an intel server (mvtcm/v1)."),
        click.option("--intel-key", metavar="PUBKEY", help="The intel holder's pinned Ed25519 public key (64 hex)."),
        click.option("--intel-token-file", type=click.Path(path_type=Path),
                     help="File holding the intel token (default: the UNMASK_INTEL_TOKEN variable)."),
        case_option,
        store_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def password_source(
    password_file: Path | None, pause: Callable[[], AbstractContextManager[None]] | None = None
) -> Callable[[], str]:
    """Where the password of encrypted evidence comes from, asked only when it is needed: a file,
    else ``UNMASK_BACKUP_PASSWORD``, else a prompt without echo when there is a terminal (with the
    progress display paused by ``pause`` meanwhile)."""

    def get() -> str:
        from unmask.errors import UsageError

        if password_file is not None:
            try:
                return password_file.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"{password_file}: cannot read the password file ({type(exc).__name__})") from None
        env = os.environ.get("UNMASK_BACKUP_PASSWORD")
        if env is not None:
            return env
        if sys.stdin.isatty():
            with pause() if pause is not None else nullcontext():
                value: str = click.prompt("Password of the encrypted evidence", hide_input=True, err=True)
            return value
        raise UsageError("the evidence is encrypted: give its password with --password-file or UNMASK_BACKUP_PASSWORD")

    return get


def _run_scan(path: Path, kind: str | None, command: str, opts: dict[str, Any]) -> None:
    """One code path for ``check`` and every explicit verb."""
    from unmask import api
    from unmask.acquisition.options import OpenOptions

    iocs = opts["iocs"]
    indicators = None
    if opts["intel_server"] or opts["intel_key"] or opts["intel_token_file"]:
        from unmask.intel.client import from_options

        indicators = from_options(opts["intel_server"], opts["intel_key"], opts["intel_token_file"], iocs)
    progress = _progress(opts["quiet"])
    options = OpenOptions(password=password_source(opts["password_file"], progress.paused),
                          key_file=opts["key_file"], age_identity=opts.get("age_identity"),
                          temp_mb=opts["budget_temp"], on_status=progress.status)
    output = opts["output"]
    with _terminating(), progress as update:
        result = api.check(
            path,
            with_paths=opts.get("with_paths") or (),
            kind=kind,
            options=options,
            command=command,
            iocs=iocs,
            output=output,
            progress=update,
            hash_all=opts["hash_all"],
            indicators=indicators,
            screen=not opts["no_screen"],
            budget=Budget(opts["budget_seconds"], opts["budget_memory"], opts["budget_temp"]),
            case=opts["case"],
            store=opts["store"],
        )
    if not opts["quiet"] and command == "check":
        console.print(f"[bold]Evidence[/]: {_e(result.acquisition_kind)} at {_e(result.evidence_path)}", soft_wrap=True)
        for other in result.acquisitions:
            console.print(f"[bold]With[/] ({_e(other['id'])}): {_e(other['kind'])} at {_e(other['path'])}", soft_wrap=True)
    _summary(result, output, opts["quiet"])
    if opts["case"] is not None and not opts["quiet"]:
        out.print(f"[bold]Case[/]: recorded into {_e(opts['case'])}", soft_wrap=True)
    sys.exit(EXIT_FINDINGS if result.at_or_above(opts["fail_on"]) else EXIT_CLEAN)


def _kind_choice(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from unmask.acquisition.registry import kinds

    if value not in kinds():
        raise click.BadParameter(f"{value!r} is not one of {', '.join(kinds())}")
    return value


@main.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--kind", callback=_kind_choice, default=None,
              help="Read the evidence as this kind when recognising it is ambiguous (see 'unmask kinds').")
@click.option("--with", "with_paths", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="Another acquisition of the same phone to read in the same scan (a sysdiagnose taken the day "
                   "of a backup); repeatable. Its kind is recognised from its content.")
@_scan_options
@handled
def check(path: Path, kind: str | None, **opts: Any) -> None:
    """Check any evidence for spyware traces: its kind is recognised from its content."""
    _run_scan(path, kind, "check", opts)


def _verb(name: str, kind: str, doc: str) -> None:
    """An explicit command for one kind (as MVT users know them): a thin alias of ``check --kind``."""

    @click.argument("path", type=click.Path(path_type=Path))
    @_scan_options
    @handled
    def command(path: Path, **opts: Any) -> None:
        _run_scan(path, kind, name, opts)

    command.__doc__ = doc
    main.command(name)(command)


_verb("check-backup", "ios-backup", "Check an iPhone backup folder (plain or encrypted) for spyware traces.")
_verb("check-androidqf", "androidqf", "Check an AndroidQF acquisition (folder, .zip or .zip.age) for spyware and stalkerware.")
_verb("check-bugreport", "bugreport", "Check an Android bugreport (zip or folder) for spyware and stalkerware.")
_verb("check-android-backup", "android-backup", "Check an Android .ab backup (plain or encrypted) for spyware traces.")
_verb("check-sysdiagnose", "ios-sysdiagnose",
      "Check an iPhone sysdiagnose (the phone's .tar.gz or its extracted folder) for spyware traces.")
_verb("check-fs", "ios-fs", "Check an iPhone full-filesystem dump (folder, .tar[.gz|.bz2|.xz|.zst] or .zip) for spyware traces.")


password_file_option = click.option(
    "--password-file", type=click.Path(path_type=Path),
    help="File holding the backup password (default: UNMASK_BACKUP_PASSWORD, else a prompt). "
         "Never give a password on the command line.",
)


@main.command("backup-key")
@click.argument("backup", type=click.Path(path_type=Path))
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path),
              help="New file for the key (written with mode 0600; never over an existing file).")
@password_file_option
@handled
def backup_key_command(backup: Path, out_file: Path, password_file: Path | None) -> None:
    """Derive an encrypted backup's key from its password once, and save it for --key-file.

    The file holds the passcode-derived key (64 hex digits, the format MVT's --key-file reads too):
    it opens this backup, and later backups of the same device while the password stays the same,
    without the password and without the seconds of key derivation. Keep it as safe as the password.
    """
    from unmask.acquisition.ios_backup_decrypt import backup_key
    from unmask.acquisition.options import OpenOptions
    from unmask.errors import UsageError
    from unmask.formats.backup_crypto import write_key_file

    if out_file.exists() or out_file.is_symlink():
        raise UsageError(f"{out_file} exists; the key is only written to a new file")
    spinner: Any = None

    def on_status(message: str) -> None:
        nonlocal spinner
        spinner = console.status(message)
        spinner.start()

    try:
        with _terminating():
            key = backup_key(backup, OpenOptions(password=password_source(password_file), on_status=on_status))
    finally:
        if spinner is not None:
            spinner.stop()
    try:
        write_key_file(out_file, key)
    except OSError as exc:
        raise UsageError(f"{out_file}: cannot write the key file ({exc.strerror or type(exc).__name__})") from None
    finally:
        del key
    out.print(f"key saved to {_e(out_file)} (mode 0600). It opens this backup without the password: "
              "keep it as safe as the password, and delete it when the case is closed.", soft_wrap=True)


@main.command("decrypt-backup")
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path))
@password_file_option
@click.option("--key-file", type=click.Path(path_type=Path),
              help="A key saved by 'unmask backup-key' instead of the password (skips key derivation).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; only the summary line.")
@handled
def decrypt_backup_command(src: Path, dest: Path, password_file: Path | None, key_file: Path | None,
                           quiet: bool) -> None:
    """Write a decrypted copy of an encrypted iPhone backup (for tools that read plain backups).

    DEST must be new or empty and outside SRC. The copy has a plain Manifest.db, each file decrypted
    under <id[:2]>/<id>, and the backup's own .plist files unchanged (IsEncrypted stays true, as in
    MVT's decrypted copies). unmask itself needs no copy: check-backup reads encrypted backups.
    """
    from unmask.acquisition.ios_backup_decrypt import decrypt_backup
    from unmask.acquisition.options import OpenOptions

    progress = _progress(quiet)
    options = OpenOptions(password=password_source(password_file, progress.paused), key_file=key_file,
                          on_status=progress.status)
    with _terminating(), progress as update:
        report = decrypt_backup(src, dest, options, progress=update)
    out.print(f"{report.files} file(s) decrypted ({report.bytes / 1e6:.1f} MB) into {_e(report.dest)}"
              + (f"; {len(report.failed)} could not be decrypted" if report.failed else "")
              + (f"; {report.not_stored} listed but not stored" if report.not_stored else ""), soft_wrap=True)
    for path, why in report.failed[:20]:
        out.print(f"  [yellow]not decrypted[/] {_e(path)}: {_e(why)}", soft_wrap=True)
    if report.size_disagreements:
        out.print(f"{len(report.size_disagreements)} file(s) decrypted to another size than Manifest.db "
                  "records (written whole):", soft_wrap=True)
        for path, recorded, size in report.size_disagreements[:10]:
            out.print(f"  {_e(path)}: {size} bytes, recorded {recorded}", soft_wrap=True)


@main.command("kinds")
def kinds_command() -> None:
    """List the kinds of evidence unmask reads."""
    from unmask.acquisition.registry import kinds

    for kind, cls in kinds().items():
        out.print(f"[bold]{_e(kind)}[/]: {_e(cls.label)}", soft_wrap=True)


@main.command("report")
@click.argument("folder", type=click.Path(path_type=Path))
@handled
def report(folder: Path) -> None:
    """Rebuild report.html in a results folder from the files saved there."""
    from unmask.report.html import write_report

    out.print(f"[bold]Report[/]: {_e(write_report(folder))}", soft_wrap=True)


@main.command("recheck")
@click.argument("folder", type=click.Path(path_type=Path))
@iocs_option
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="New folder for the results (default: FOLDER/recheck-<UTC time>); must be empty.")
@fail_on_option
@click.option("--quiet", "-q", is_flag=True, help="Only the verdict line.")
@handled
def recheck(folder: Path, iocs: Sequence[Path], output: Path | None, fail_on: Severity, quiet: bool) -> None:
    """Re-match the records saved in a results folder against current indicators, without the evidence."""
    from unmask.recheck import recheck as run_recheck

    done = run_recheck(folder, iocs=iocs, output=output)
    _summary(done.result, done.folder, quiet)
    if not quiet:
        out.print(f"{len(done.new_findings)} new finding(s) since the original run; "
                  f"{len(done.no_longer_found)} earlier finding(s) no longer found", soft_wrap=True)
        if done.skipped:
            out.print("skipped records of unknown kinds: " + ", ".join(f"{n} {_e(k)}" for k, n in done.skipped.items()))
        out.print(f"[bold]Report[/]: {_e(done.folder / 'report.html')}", soft_wrap=True)
    sys.exit(EXIT_FINDINGS if done.result.at_or_above(fail_on) else EXIT_CLEAN)


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

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The display stopped for the time of a prompt."""
        if self.bar is None:
            yield
            return
        self.bar.stop()
        try:
            yield
        finally:
            self.bar.start()

    def status(self, message: str) -> None:
        """A slow step without steps to count (deriving a backup key): a pulsing bar, the time."""
        if self.bar is not None:
            self.bar.update(self.task, description=message, completed=0, total=None)


def _summary(result: Any, output: Path | None, quiet: bool) -> None:
    verdict = result.verdict()
    colour = {"detected": "red", "suspicious": "yellow", "clean": "green"}[verdict.level]
    if quiet:
        out.print(f"[{colour}]{_e(verdict.headline)}[/]")
        return
    meta = result.metadata
    device = " ".join(
        str(x)
        for x in (meta.get("product_type"), meta.get("ios_version") and f"iOS {meta['ios_version']}")
        if x
    )
    out.print(
        Panel(
            f"[bold {colour}]{_e(verdict.headline)}[/]\n{_e(verdict.detail)}",
            title=f"unmask {_e(result.command)}",
            subtitle=_e(device) or None,
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
        out.print(f"  [{_STYLE[f.severity.value]}]{f.severity.value.upper():<8}[/] {when}  {_e(f.message)}", soft_wrap=True)
        if f.device_path:
            tag = f.record.acquisition if f.record is not None else ""
            out.print(f"           [dim]{_e(f.device_path)}{' (' + _e(tag) + ')' if tag else ''}[/]", soft_wrap=True)
    if len(notable) > 25:
        out.print(f"  … and {len(notable) - 25} more in alerts.json")
    statuses = {s: [c for c in result.coverage if c.status is s] for s in Status}
    line = ", ".join(f"{len(v)} {k.value}" for k, v in statuses.items())
    out.print(f"[bold]Coverage[/]: {line}")
    for c in statuses[Status.PARTIAL] + statuses[Status.FAILED] + statuses[Status.UNSUPPORTED]:
        out.print(f"  [yellow]{c.status.value}[/] {_e(c.parser)}: {_e(c.reason)}", soft_wrap=True)
    refused = result.refused
    if refused:
        out.print(f"[bold]Refused[/]: {len(refused)} entr{'y' if len(refused) == 1 else 'ies'} of the evidence "
                  "not read (links out of it, FIFOs; listed in info.json):", soft_wrap=True)
        for name, why in list(refused.items())[:10]:
            out.print(f"  [yellow]refused[/] {_e(name)}: {_e(why)}", soft_wrap=True)
    sets = result.indicator_sets
    if not sets.indicators and sets.sets:
        # Confidential matching: the client never learns the indicators, only the published set.
        names = ", ".join(f"{_e(s.name)} at {_e(s.path)}" for s in sets.sets)
        out.print(f"[bold]Indicators[/]: matched confidentially against {names}", soft_wrap=True)
    else:
        out.print(
            f"[bold]Indicators[/]: {len(sets.indicators)} from {len(sets.sets)} file(s)"
            + (f", {sets.unsupported} pattern(s) not usable" if sets.unsupported else "")
        )
    if output is not None:
        out.print(f"[bold]Results[/]: {_e(output)}")


@main.command("scan-files")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Folder for scan-files.json (created if needed).")
@click.option("--jsonl", is_flag=True, help="Print one JSON object per file on standard output.")
@click.option("--workers", "-j", type=click.IntRange(0, 64), default=None, help="Worker processes (default: CPUs).")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=None, help="Seconds allowed per file.")
@fail_on_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; only the summary line.")
@handled
def scan_files(
    paths: Sequence[Path],
    output: Path | None,
    jsonl: bool,
    workers: int | None,
    timeout: float | None,
    fail_on: Severity,
    quiet: bool,
) -> None:
    """Screen files, folders and ZIP archives for zero-click exploit payloads (content, not names)."""
    import dataclasses
    import json
    import time

    from unmask.api import refuse_output_inside
    from unmask.detect.payloads import DEFAULT_LIMITS, escalate, expand_inputs, screen_files, summarise
    from unmask.errors import UsageError

    for p in paths:
        if not p.exists():
            raise UsageError(f"{p} does not exist")
    if output is not None:
        for p in paths:
            if p.is_dir():
                refuse_output_inside(output, p, "folder to screen")
    skipped: list[tuple[Path, str]] = []
    items = list(expand_inputs(paths, on_skip=lambda path, why: skipped.append((path, why))))
    if not items:
        reasons = "; ".join(f"{path}: {why}" for path, why in skipped[:3])
        raise UsageError("no files to screen" + (f" ({reasons})" if reasons else ""))
    limits = dataclasses.replace(DEFAULT_LIMITS, seconds=timeout) if timeout else DEFAULT_LIMITS
    started = time.perf_counter()
    with _progress(quiet) as update:
        done = 0

        def tick(report: Any) -> None:
            nonlocal done
            done += 1
            update("screening files", done, len(items))
            if jsonl:
                click.echo(json.dumps(report.to_json()))

        reports = escalate(screen_files(items, workers=workers, limits=limits, on_progress=tick))
    seconds = max(time.perf_counter() - started, 1e-9)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "scan-files.json").write_text(json.dumps([r.to_json() for r in reports], indent=1) + "\n")
    summary = summarise(reports)
    megabytes = summary.bytes / 1e6
    console.print(
        f"[bold]{summary.files} file(s)[/], {megabytes:.1f} MB in {seconds:.1f} s ({megabytes / seconds:.1f} MB/s); "
        + ", ".join(
            f"[{_STYLE[lvl.value]}]{summary.by_severity[lvl.value]} {lvl.value}[/]" for lvl in reversed(list(Severity))
        )
        + (f"; {summary.with_errors} file(s) with errors or limits hit" if summary.with_errors else "")
        + (f"; {len(skipped)} skipped (links, FIFOs, devices)" if skipped else ""),
        soft_wrap=True,
    )
    if not quiet:
        for path, why in skipped[:20]:
            console.print(f"  [dim]skipped[/] {_e(path)}: {_e(why)}", soft_wrap=True)
        for r in reports:
            for f in r.findings:
                if f.severity.rank >= Severity.LOW.rank:
                    cve = f" {f.cve}" if f.cve else ""
                    console.print(
                        f"  [{_STYLE[f.severity.value]}]{f.severity.value.upper():<8}[/] {_e(f.rule)}{_e(cve)}: "
                        f"{_e(f.message)}\n           [dim]{_e(r.path)} ({_e(f.locator)})[/]",
                        soft_wrap=True,
                    )
    sys.exit(EXIT_FINDINGS if summary.at_or_above(fail_on) else EXIT_CLEAN)


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
        table.add_row(_e(s.name), _e(collections), str(s.indicators), _e(by_type), str(s.unsupported), s.sha256[:12])
    out.print(table)


@iocs_group.command("update")
@click.option("--index", "index_url", default=None, help="URL or path of an indicators.yaml index.")
@click.option("--raw-base", default=None, hidden=True, help="Base URL replacing raw.githubusercontent.com.")
@handled
def iocs_update(index_url: str | None, raw_base: str | None) -> None:
    """Download the indicator sets named in an indicators.yaml index into the user data folder."""
    from unmask.detect.indicators.update import DEFAULT_INDEX, update

    report = update(
        index_url or DEFAULT_INDEX, raw_base=raw_base, log=lambda m: console.print(_e(m), soft_wrap=True)
    )
    out.print(f"{len(report.saved)} set(s) saved to {_e(report.folder)}, {len(report.failed)} failed")
    for name, reason in report.failed:
        console.print(f"  [yellow]failed[/] {_e(name)}: {_e(reason)}", soft_wrap=True)
    if report.failed and not report.saved:
        sys.exit(EXIT_USAGE)


@main.group("intel")
def intel_group() -> None:
    """Confidential matching, intel holder's side: publish epochs, serve them, manage tokens."""


@intel_group.command("publish")
@iocs_option
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="The intel folder.")
@click.option("--grace-days", default=7.0, show_default=True, help="How long the previous epoch stays usable.")
@click.option("--signing-key", type=click.Path(path_type=Path), help="Ed25519 PEM key (default: DIR/signing.key).")
@handled
def intel_publish(iocs: Sequence[Path], out_dir: Path, grace_days: float, signing_key: Path | None) -> None:
    """Build a new epoch (fresh key, padded set, signed manifest) and make it current."""
    from unmask.intel.publish import publish

    report = publish(iocs, out_dir, grace_days=grace_days, signing_key_file=signing_key)
    out.print(
        f"epoch {report.epoch}: {report.indicators} indicators as {report.keys} keys, "
        f"{report.records} records ({report.set_bytes} bytes) in {report.seconds:.1f} s"
        + (f"; {report.unusable} unusable" if report.unusable else "")
    )
    if report.previous:
        out.print(f"previous epoch {report.previous} stays usable for {grace_days:g} days")
    if report.retired:
        out.print(f"retired (seed destroyed): {', '.join(report.retired)}")
    out.print(f"public key to pin (--intel-key): {report.public_key}")


@intel_group.command("serve")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True)
@click.option("--tls-cert", type=click.Path(path_type=Path), help="TLS certificate (PEM); needed off loopback.")
@click.option("--tls-key", type=click.Path(path_type=Path), help="TLS private key (PEM).")
@click.option("--min-charge", default=4096, show_default=True, type=click.IntRange(1, 16384),
              help="Evaluations charged per request at least (clients refuse more than 16384).")
@click.option("--max-batch", default=65536, show_default=True, type=click.IntRange(1024, 65536),
              help="Elements per request at most (clients accept 1024-65536).")
@click.option("--header-timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds for a request head to arrive; then 408 and close.")
@click.option("--body-timeout", default=60.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds for a request body to arrive; then the connection is cut.")
@click.option("--send-timeout", default=60.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds a client may stop reading an answer before it is dropped.")
@click.option("--max-connections", default=1000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Open connections at most; more get 503.")
@click.option("--max-connections-per-network", default=32, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Open connections per client network at most; more get 503.")
@click.option("--ipv4-prefix", default=24, show_default=True, type=click.IntRange(8, 32),
              help="Prefix length of a client network (IPv4).")
@click.option("--ipv6-prefix", default=64, show_default=True, type=click.IntRange(16, 128),
              help="Prefix length of a client network (IPv6).")
@handled
def intel_serve(folder: Path, host: str, port: int, tls_cert: Path | None, tls_key: Path | None,
                **policy: Any) -> None:
    """Serve an intel folder over HTTP(S) on uvicorn."""
    from unmask.intel.server import serve

    console.print(f"serving {folder} on {'https' if tls_cert else 'http'}://{host}:{port}")
    serve(folder, host=host, port=port, tls_cert=tls_cert, tls_key=tls_key, **policy)


@intel_group.group("token")
def intel_token() -> None:
    """Bearer tokens (stored as hashes only)."""


@intel_token.command("create")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--org", required=True, help="The organisation the token is issued to.")
@click.option("--evals-per-day", default=1_000_000, show_default=True)
@click.option("--requests-per-minute", default=60, show_default=True)
@click.option("--expires-days", type=float, default=None, help="Expiry (default: none).")
@handled
def intel_token_create(folder: Path, org: str, evals_per_day: int, requests_per_minute: int,
                       expires_days: float | None) -> None:
    """Issue a token; it is printed once and never stored."""
    from unmask.intel.tokens import TokenStore

    record, token = TokenStore(folder).create(
        org, evals_per_day=evals_per_day, requests_per_minute=requests_per_minute, expires_days=expires_days
    )
    console.print(f"token {record.id} for {record.org} (shown once; give it to the investigator securely):")
    click.echo(token)


@intel_token.command("revoke")
@click.argument("folder", type=click.Path(path_type=Path))
@click.argument("token_id")
@handled
def intel_token_revoke(folder: Path, token_id: str) -> None:
    """Revoke a token by id; a running server refuses it from the next request on."""
    from unmask.intel.tokens import TokenStore

    record = TokenStore(folder).revoke(token_id)
    out.print(f"token {record.id} ({record.org}) revoked")


@intel_token.command("list")
@click.argument("folder", type=click.Path(path_type=Path))
@handled
def intel_token_list(folder: Path) -> None:
    """Show the tokens (ids, organisations, quotas, state)."""
    from unmask.intel.tokens import TokenStore

    for t in TokenStore(folder).all():
        state = "revoked" if t.revoked else f"expires {t.expires}" if t.expires else "active"
        out.print(f"{t.id}  {t.org}  {t.evals_per_day}/day  {t.requests_per_minute}/min  {state}")


@intel_group.command("audit-verify")
@click.argument("folder", type=click.Path(path_type=Path))
@handled
def intel_audit_verify(folder: Path) -> None:
    """Check the audit log's hash chain; exit 2 at the first broken line."""
    from unmask.intel.audit import AUDIT_FILE, verify

    result = verify(folder / AUDIT_FILE)
    if not result.ok:
        _fail(f"audit log broken at line {result.line}: {result.error} ({result.count} lines verified before it)")
    out.print(f"audit log intact: {result.count} lines, head {result.head}")


# --- the case store: check-many, rehunt, cases ----------------------------------------------------


def _worst_style(level: str | None) -> str:
    return _STYLE.get(level or "info", "dim")


@main.command("check-many")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from", "from_file", type=click.Path(path_type=Path), help="A file listing acquisitions, one a line.")
@click.option("--case", envvar="UNMASK_CASE", default=None, metavar="NAME",
              help="Put every acquisition into this case (default: one case each, named after it).")
@store_option
@iocs_option
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Folder under which each scan's results go (default: the store's data folder).")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="A running Dask scheduler (default: a local cluster).")
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=None,
              help="Workers of the local cluster (default: one per core).")
@click.option("--no-screen", is_flag=True, help="Do not screen message attachments for exploit payloads.")
@fail_on_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; only the summary line.")
@handled
def check_many_command(paths: Sequence[Path], from_file: Path | None, case: str | None, store: str | None,
                       iocs: Sequence[Path], output: Path | None, scheduler: str | None, workers: int | None,
                       no_screen: bool, fail_on: Severity, quiet: bool) -> None:
    """Scan many acquisitions into the case store on a Dask cluster, one task each."""
    from unmask.errors import UsageError
    from unmask.many import check_many, plan, read_list

    listed = [str(p) for p in paths] + (read_list(from_file) if from_file is not None else [])
    if not listed:
        raise UsageError("name acquisitions to scan (PATH… or --from FILE)")
    jobs = plan(listed, case)
    with _progress(quiet) as update:
        update("cases done", 0, len(jobs))

        def tick(outcome: Any, done: int, total: int) -> None:
            update("cases done", done, total)
            if outcome.status == "failed":
                console.print(f"  [yellow]failed[/] {_e(outcome.path)}: {_e(outcome.error)}", soft_wrap=True)

        outcomes = check_many(jobs, store=store, iocs=iocs, output=output, scheduler=scheduler, workers=workers,
                              screen=not no_screen, on_outcome=tick)
    flagged = []
    for o in outcomes:
        if o.status == "done" and any(o.counts.get(s.value) for s in Severity if s.rank >= fail_on.rank):
            flagged.append(o)
    if not quiet:
        for o in sorted(outcomes, key=lambda o: (o.status != "done", o.case)):
            if o.status == "done":
                counts = ", ".join(f"{n} {lvl}" for lvl, n in o.counts.items() if n)
                out.print(f"  [bold]{_e(o.case)}[/]: {_e(o.verdict)}" + (f" ({counts})" if counts else ""), soft_wrap=True)
            elif o.status == "skipped":
                out.print(f"  [dim]{_e(o.case)}: already scanned with the same evidence and indicators[/]", soft_wrap=True)
    by = {s: sum(1 for o in outcomes if o.status == s) for s in ("done", "skipped", "failed")}
    out.print(f"{len(outcomes)} acquisition(s): {by['done']} scanned, {by['skipped']} skipped, {by['failed']} failed; "
              f"{len(flagged)} with findings at or above {fail_on.value}", soft_wrap=True)
    if by["failed"] and not by["done"] and not by["skipped"]:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if flagged else EXIT_CLEAN)


@main.command("rehunt")
@iocs_option
@click.option("--case", "cases", multiple=True, metavar="NAME", help="Re-hunt only this case (repeatable).")
@store_option
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Spread the cases over a Dask cluster (the store must be PostgreSQL).")
@click.option("--dry-run", is_flag=True, help="Report new findings without writing them or re-check folders.")
@fail_on_option
@click.option("--quiet", "-q", is_flag=True, help="Only the summary line.")
@handled
def rehunt_command(iocs: Sequence[Path], cases: Sequence[str], store: str | None, scheduler: str | None,
                   dry_run: bool, fail_on: Severity, quiet: bool) -> None:
    """Re-hunt every stored case against current (or given) indicators, as indexed lookups."""
    from unmask.store.rehunt import rehunt

    done = rehunt(store, iocs=iocs, cases=cases, write=not dry_run, scheduler=scheduler)
    with_new = [r for r in done.results if r.new]
    if not quiet:
        for r in done.results:
            if r.new:
                worst = r.worst.value if r.worst else "info"
                out.print(f"  [{_worst_style(worst)}]{worst.upper():<8}[/] [bold]{_e(r.case)}[/]: {len(r.new)} new "
                          f"finding(s), {_e(', '.join(r.families) or 'heuristics')}", soft_wrap=True)
                for alert in r.new[:5]:
                    out.print(f"           {_e(alert.get('message', ''))}", soft_wrap=True)
                if r.recheck:
                    out.print(f"           [dim]re-check: {_e(r.recheck)}[/]", soft_wrap=True)
            if r.error:
                console.print(f"  [yellow]not verified[/] {_e(r.case)}: {_e(r.error)}", soft_wrap=True)
    out.print(f"{done.cases} case(s), {done.acquisitions} acquisition(s) re-hunted with {done.keys_probed} indicator "
              f"keys in {done.seconds:.1f} s: {len(with_new)} case(s) with {done.new_findings()} new finding(s)"
              + (" (dry run: nothing written)" if dry_run else ""), soft_wrap=True)
    sys.exit(EXIT_FINDINGS if done.at_or_above(fail_on) else EXIT_CLEAN)


@main.group("cases")
def cases_group() -> None:
    """The case store: list, show, export and delete cases."""


@cases_group.command("list")
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the cases as JSON.")
@handled
def cases_list(store: str | None, as_json: bool) -> None:
    """Every case with its counts and last finding."""
    import json

    from unmask.store.db import open_store

    with open_store(store) as opened:
        summaries = opened.summaries()
    if as_json:
        click.echo(json.dumps([{
            "case": c.name, "acquisitions": c.acquisitions, "records": c.records, "findings": c.findings,
            "last_scan": c.last_scan.isoformat() if c.last_scan else None, "last_finding": c.last_finding,
        } for c in summaries], indent=1, default=str))
        return
    table = Table(title=f"{len(summaries)} case(s)")
    for col in ("case", "scans", "records", "findings", "last scan", "last finding"):
        table.add_column(col, overflow="fold")
    for c in summaries:
        counts = ", ".join(f"{c.findings[s.value]} {s.value}" for s in reversed(list(Severity)) if c.findings.get(s.value))
        last = c.last_finding["alert"] if c.last_finding else None
        table.add_row(_e(c.name), str(c.acquisitions), str(c.records), counts or "none",
                      c.last_scan.strftime("%Y-%m-%d %H:%M") if c.last_scan else "",
                      _e(f"{last.get('severity')}: {last.get('message')}") if last else "")
    out.print(table)


@cases_group.command("show")
@click.argument("name")
@store_option
@handled
def cases_show(name: str, store: str | None) -> None:
    """One case: its acquisitions and findings."""
    from unmask.store.db import open_store

    with open_store(store) as opened:
        case_id = opened.require_case(name)
        acquisitions = opened.acquisitions_of(case_id)
        findings = opened.findings_of(case_id)
    out.print(f"[bold]Case[/] {_e(name)}: {len(acquisitions)} acquisition(s), {len(findings)} finding(s)", soft_wrap=True)
    for a in acquisitions:
        out.print(f"  #{a['id']} {_e(a['kind'])} {_e(a['device'])} [{_e(a['status'])}] scanned {_e(a['scanned'])}, "
                  f"{a['records']} records, {a['keys']} keys; evidence {a['evidence_sha256'][:16]}…", soft_wrap=True)
        out.print(f"      [dim]evidence {_e(a['evidence'])} → results {_e(a['output'])}[/]", soft_wrap=True)
        if a["error"]:
            out.print(f"      [yellow]failed[/]: {_e(a['error'])}", soft_wrap=True)
    for f in findings:
        alert = f["alert"]
        level = str(alert.get("severity", "info"))
        out.print(f"  [{_worst_style(level)}]{level.upper():<8}[/] {_e(alert.get('timestamp') or 'time unknown')}  "
                  f"{_e(alert.get('message', ''))} [dim]({_e(f['origin'])} {_e(f['found'])})[/]", soft_wrap=True)


@cases_group.command("export")
@click.argument("name")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path), help="Folder for case.json and sightings.")
@store_option
@handled
def cases_export(name: str, output: Path, store: str | None) -> None:
    """Export a case as JSON and its indicator matches as STIX 2.1 sightings."""
    from unmask.store.db import open_store
    from unmask.store.export import export_case

    with open_store(store) as opened:
        for path in export_case(opened, name, output):
            out.print(f"[bold]Wrote[/] {_e(path)}", soft_wrap=True)


@cases_group.command("delete")
@click.argument("name")
@store_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handled
def cases_delete(name: str, store: str | None, yes: bool) -> None:
    """Delete a case with all its lookup keys, locators and findings (its output folders stay)."""
    from unmask.store.db import open_store

    with open_store(store) as opened:
        opened.require_case(name)
        if not yes and not click.confirm(f"Delete case {name!r} and everything the store keeps about it?", err=True):
            _fail("not deleted")
        counts = opened.delete_case(name)
    out.print(f"case {_e(name)} deleted: {counts.get('acquisitions', 0)} acquisition(s), "
              f"{counts.get('lookup_keys', 0)} lookup keys, {counts.get('findings', 0)} finding(s)", soft_wrap=True)


if __name__ == "__main__":  # pragma: no cover
    main()
