"""``python -m bench.bench_encrypted``: encrypted iPhone backups, unmask and MVT side by side.

The 200,000-row benchmark backup (:func:`bench.generate.get_backup`, ``large``) is encrypted with
the test builder's converter (:func:`tests.builders.encrypted_backup.encrypt_backup`) at the real
iteration counts (10,000,000 PBKDF2-SHA256 rounds, then 10,000 PBKDF2-SHA1), and cached beside it
in ``bench/data/``. One run then times, each in a fresh process (:mod:`bench.measure`):

- key derivation: ``unmask backup-key`` (the whole command, so interpreter start-up included),
  and the derivation alone in this process;
- ``unmask check-backup`` on the plain backup and on the encrypted copy with ``--key-file``,
  alternating, ``--runs`` times each after one untimed warm-up each;
- MVT 2026.10.26 (``bench/.mvt-venv``, installed by :mod:`bench.peer`): ``mvt-ios decrypt-backup``
  with the same key file (MVT reads the format), then ``mvt-ios check-backup`` on its decrypted
  copy, ``--mvt-runs`` times.

The target: the encrypted scan at most 1.5 times the plain scan, plus key derivation. Results go to
``bench/out/encrypted.md`` and ``bench/out/encrypted.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import compare, measure, peer
from bench.generate import DATA_DIR, get_backup
from bench.run import OUT, unmask_cmd, unmask_env

PASSWORD = "unmask benchmark backup password"
TARGET = 1.5


def _log(msg: str) -> None:
    print(msg, flush=True)


def encrypted_copy(plain: Path, log=_log) -> tuple[Path, float | None]:
    """The encrypted copy of a generated backup, built once and cached (keyed by the plain
    backup's folder and the converter's source)."""
    from tests.builders import encrypted_backup as builder

    digest = hashlib.sha256(Path(builder.__file__).read_bytes()).hexdigest()[:10]
    folder = DATA_DIR / f"{plain.parent.name}-encrypted-g{digest}"
    if (folder / "backup" / "Manifest.plist").is_file():
        return folder / "backup", None
    scratch = folder.with_name(folder.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    log(f"encrypting {plain} at the real iteration counts into {folder} …")
    t0 = time.perf_counter()
    builder.encrypt_backup(plain, scratch / "backup", password=PASSWORD, iterations=builder.REAL_ITER,
                           dpic=builder.REAL_DPIC, seed=b"unmask-bench")
    seconds = time.perf_counter() - t0
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    log(f"  encrypted in {seconds:.0f} s")
    return folder / "backup", seconds


def _derive_in_process(backup: Path) -> float:
    from unmask.acquisition.ios_backup import load_keybag
    from unmask.formats import backup_crypto, plist

    keybag = load_keybag(backup, plist.load_dict((backup / "Manifest.plist").read_bytes()))
    t0 = time.perf_counter()
    backup_crypto.derive_passcode_key(PASSWORD, keybag)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    p = argparse.ArgumentParser(prog="python -m bench.bench_encrypted", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="large", help="which generated backup (default: large, 200,000 rows)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=3, help="measured unmask runs per backup (default 3)")
    p.add_argument("--mvt-runs", type=int, default=1, help="measured MVT decrypt + check runs (default 1)")
    p.add_argument("--no-mvt", action="store_true")
    args = p.parse_args(argv)

    base = OUT / "encrypted"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    iocs = peer.public_sets()
    bb = get_backup(args.size, args.seed, log=_log)
    enc, encrypt_seconds = encrypted_copy(bb.path)
    status = peer.PeerStatus(False, None, "MVT not run (--no-mvt)") if args.no_mvt else peer.ensure_mvt(True, _log)
    _log(f"peer: {status.note}")
    env = unmask_env()
    results: dict[str, object] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": measure.machine(),
        "rows": bb.counts["manifest_rows"],
        "plain": str(bb.path),
        "encrypted": str(enc),
        "encrypt_seconds": encrypt_seconds,
        "load_avg_start": measure.load_average(),
        "mvt": status.__dict__,
    }

    # Key derivation at the real counts: the command, and the derivation alone.
    key = base / "backup.key"
    derive_run = measure.measure(
        [str(Path(sys.executable).parent / "unmask"), "backup-key", str(enc), "--out", str(key)],
        log_prefix=base / "logs" / "backup-key", env={**env, "UNMASK_BACKUP_PASSWORD": PASSWORD},
    )
    if derive_run.rc != 0:
        raise SystemExit(f"backup-key failed: {derive_run.stderr.read_text()[-400:]}")
    results["backup_key_command_s"] = derive_run.wall
    results["derive_in_process_s"] = _derive_in_process(enc)
    _log(f"backup-key (10M + 10k PBKDF2 rounds): {derive_run.wall:.2f} s; "
         f"derivation alone {results['derive_in_process_s']:.2f} s")

    def scan(label: str, backup: Path, tag: str, extra: list[str]) -> measure.Run:
        out = base / f"{label}-{tag}"
        shutil.rmtree(out, ignore_errors=True)
        run = measure.measure([*unmask_cmd(backup, iocs, out), *extra], log_prefix=base / "logs" / f"{label}-{tag}",
                              env=env)
        _log(f"  unmask {label:>9} {tag:>6}: {run.wall:7.2f} s  {run.peak_mb:6.1f} MB  exit {run.rc}")
        return run

    plain_runs: list[measure.Run] = []
    enc_runs: list[measure.Run] = []
    scan("plain", bb.path, "warmup", [])
    scan("encrypted", enc, "warmup", ["--key-file", str(key)])
    for i in range(args.runs):
        plain_runs.append(scan("plain", bb.path, str(i + 1), []))
        enc_runs.append(scan("encrypted", enc, str(i + 1), ["--key-file", str(key)]))
    last = str(args.runs)
    same = (base / f"plain-{last}" / "alerts.json").read_bytes() == (base / f"encrypted-{last}" / "alerts.json").read_bytes()
    timings = json.loads((base / f"encrypted-{last}" / "info.json").read_text())["extra"]["timings"]
    plain_timings = json.loads((base / f"plain-{last}" / "info.json").read_text())["extra"]["timings"]
    u_det = compare.unmask_detections(base / f"encrypted-{last}")
    results["unmask"] = {
        "plain_walls": [r.wall for r in plain_runs],
        "encrypted_walls": [r.wall for r in enc_runs],
        "plain_peaks_mb": [r.peak_mb for r in plain_runs],
        "encrypted_peaks_mb": [r.peak_mb for r in enc_runs],
        "plain_cpu": [r.cpu for r in plain_runs],
        "encrypted_cpu": [r.cpu for r in enc_runs],
        "rcs": [r.rc for r in plain_runs + enc_runs],
        "plain_median": measure.median([r.wall for r in plain_runs]),
        "encrypted_median": measure.median([r.wall for r in enc_runs]),
        "alerts_identical": same,
        "encrypted_timings": timings,
        "plain_timings": plain_timings,
        "planted_missed": compare.missed_planted(u_det, bb.planted),
    }
    ratio = results["unmask"]["encrypted_median"] / results["unmask"]["plain_median"]  # type: ignore[index]
    results["ratio"] = ratio
    results["cpu_ratio"] = measure.median([r.cpu for r in enc_runs]) / measure.median([r.cpu for r in plain_runs])

    # unmask's own decrypted copy, for comparison with MVT's decrypt-backup (not needed to scan).
    dest = base / "unmask-decrypted"
    dec = measure.measure(
        [str(Path(sys.executable).parent / "unmask"), "decrypt-backup", str(enc), str(dest), "--key-file", str(key),
         "--quiet"],
        log_prefix=base / "logs" / "unmask-decrypt", env=env,
    )
    _log(f"  unmask decrypt-backup: {dec.wall:7.2f} s  {dec.peak_mb:6.1f} MB  exit {dec.rc}")
    results["unmask_decrypt"] = {"wall": dec.wall, "cpu": dec.cpu, "peak_mb": dec.peak_mb, "rc": dec.rc}
    shutil.rmtree(dest, ignore_errors=True)

    if status.available:
        mvt_home = base / "mvt-home"
        mvt_runs = []
        for i in range(args.mvt_runs):
            dest = base / f"mvt-decrypted-{i + 1}"
            shutil.rmtree(dest, ignore_errors=True)
            dec = measure.measure(
                [str(peer.MVT_IOS), *peer.GROUP_FLAGS, "decrypt-backup", "--key-file", str(key), "-d", str(dest), str(enc)],
                log_prefix=base / "logs" / f"mvt-decrypt-{i + 1}", env=peer.mvt_env(mvt_home),
            )
            _log(f"  MVT decrypt-backup: {dec.wall:7.2f} s  {dec.peak_mb:6.1f} MB  exit {dec.rc}")
            out = base / f"mvt-check-{i + 1}"
            chk = measure.measure(peer.check_backup_cmd(dest, iocs, out), log_prefix=base / "logs" / f"mvt-check-{i + 1}",
                                  env=peer.mvt_env(mvt_home))
            _log(f"  MVT check-backup:   {chk.wall:7.2f} s  {chk.peak_mb:6.1f} MB  exit {chk.rc}")
            m_det = compare.mvt_detections(peer.read_alerts(out))
            mvt_runs.append({"decrypt_s": dec.wall, "decrypt_cpu": dec.cpu, "check_cpu": chk.cpu, "decrypt_peak_mb": dec.peak_mb, "decrypt_rc": dec.rc,
                             "check_s": chk.wall, "check_peak_mb": chk.peak_mb, "check_rc": chk.rc,
                             "alerts": m_det.alerts,
                             "unmask_finds_all": compare.compare(u_det, m_det).unmask_finds_all})
            shutil.rmtree(dest, ignore_errors=True)  # 200,000 decrypted files
        results["mvt_runs"] = mvt_runs
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_avg_end"] = measure.load_average()
    (OUT / "encrypted.json").write_text(json.dumps(results, indent=1, default=str))
    (OUT / "encrypted.md").write_text(render(results))
    _log(f"wrote {OUT / 'encrypted.md'}")
    return 0 if ratio <= TARGET and same and all(rc == 1 for rc in results["unmask"]["rcs"]) else 1  # type: ignore[index]


def render(r: dict[str, object]) -> str:
    """The markdown page."""
    u: dict = r["unmask"]  # type: ignore[assignment]
    m: dict = r["machine"]  # type: ignore[assignment]
    met = "**met**" if r["ratio"] <= TARGET else "**not met**"  # type: ignore[operator]
    lines = [
        "# Encrypted backups: unmask and MVT side by side",
        "",
        "Generated by `python -m bench.bench_encrypted`; raw numbers in `bench/out/encrypted.json`.",
        "",
        f"- Date: {r['started']} – {r['finished']} (UTC); load average {r['load_avg_start']:.2f} at start, "
        f"{r['load_avg_end']:.2f} at end (a shared machine: treat small differences as noise)",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Python {m['python']}",
        f"- Backup: {r['rows']:,} Manifest rows (`bench/generate.py` large), encrypted by the test builder at "
        "10,000,000 PBKDF2-SHA256 + 10,000 PBKDF2-SHA1 rounds; indicator sets: the 17 bundled public sets",
        f"- unmask: {len(u['plain_walls'])} measured runs each, alternating plain / encrypted after one warm-up "
        "each; medians. Wall time and peak RSS of the process (`bench/measure.py`).",
        "",
        "| what | wall (s) | CPU (s) | peak (MB) |",
        "|---|---:|---:|---:|",
        f"| key derivation, `unmask backup-key` (whole command) | {r['backup_key_command_s']:.2f} | | |",
        f"| key derivation alone (PBKDF2 in-process) | {r['derive_in_process_s']:.2f} | | |",
        f"| `unmask check-backup`, plain | {u['plain_median']:.2f} | {measure.median(u.get('plain_cpu', [])):.2f} | "
        f"{measure.median(u['plain_peaks_mb']):.0f} |",
        f"| `unmask check-backup`, encrypted, `--key-file` | {u['encrypted_median']:.2f} | "
        f"{measure.median(u.get('encrypted_cpu', [])):.2f} | {measure.median(u['encrypted_peaks_mb']):.0f} |",
    ]
    ud: dict = r.get("unmask_decrypt") or {}  # type: ignore[assignment]
    if ud:
        lines.append(f"| `unmask decrypt-backup --key-file` (a copy; not needed to scan) | {ud['wall']:.2f} | "
                     f"{ud['cpu']:.2f} | {ud['peak_mb']:.0f} |")
    for i, run in enumerate(r.get("mvt_runs", []) or []):  # type: ignore[arg-type]
        lines += [
            f"| `mvt-ios decrypt-backup --key-file` (run {i + 1}) | {run['decrypt_s']:.2f} | "
            f"{run.get('decrypt_cpu', float('nan')):.2f} | {run['decrypt_peak_mb']:.0f} |",
            f"| `mvt-ios check-backup` on MVT's copy (run {i + 1}) | {run['check_s']:.2f} | "
            f"{run.get('check_cpu', float('nan')):.2f} | {run['check_peak_mb']:.0f} |",
            f"| MVT decrypt + check (run {i + 1}) | {run['decrypt_s'] + run['check_s']:.2f} | | |",
        ]
    lines += [
        "",
        f"Target: encrypted scan ≤ {TARGET}× the plain scan, plus key derivation: "
        f"{r['ratio']:.2f}× ({u['encrypted_median']:.2f} s vs {u['plain_median']:.2f} s) {met}; "
        f"in CPU time (less sensitive to a loaded machine) {r.get('cpu_ratio', float('nan')):.2f}×.",
        f"alerts.json identical for plain and encrypted: {'yes' if u['alerts_identical'] else 'NO'}; "
        f"planted traces missed: {u['planted_missed'] or 'none'}.",
        "",
        "unmask's stages, last run (s): " + ", ".join(
            f"{k} {u['plain_timings'].get(k, 0):.2f} plain / {u['encrypted_timings'].get(k, 0):.2f} encrypted"
            for k in ("open", "parse", "parse:manifest", "match", "screen", "write_records")
        ),
        "",
        "Every run: plain " + ", ".join(f"{w:.2f}" for w in u["plain_walls"])
        + " s; encrypted " + ", ".join(f"{w:.2f}" for w in u["encrypted_walls"]) + " s.",
        "",
    ]
    if not r.get("mvt_runs"):
        lines.append(f"MVT: {r['mvt']['note']}")  # type: ignore[index]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
