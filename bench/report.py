"""Render the harness results (``bench/out/results.json``) as ``docs/benchmarks.md``."""

from __future__ import annotations

import math
from typing import Any

# The figures issue 4 asks for.
TARGET_SPEEDUP = 20.0
TARGET_MEMORY = 0.25
TARGET_MATCH = 1_000_000
TARGET_LOAD = 20.0


def _f(x: Any, fmt: str = "{:.2f}", none: str = "n/a") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return none
    return fmt.format(x)


def _ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("**met**" if flag else "**not met**")


def _targets(r: dict[str, Any]) -> list[str]:
    rows = r.get("end_to_end", [])
    big = max(rows, key=lambda x: x["rows"]) if rows else None
    lines = ["| target | measured | |", "|---|---|---|"]
    if big is not None and "mvt" in big:
        cmp_ = big["comparison"]
        lines.append(
            f"| end to end, {big['rows']:,}-row backup, all public sets: ≥ {TARGET_SPEEDUP:.0f}× faster "
            f"than MVT | {_f(big['speedup'], '{:.1f}×')} ({_f(big['unmask']['median_wall'])} s vs "
            f"{_f(big['mvt']['median_wall'])} s) | {_ok(big['speedup'] >= TARGET_SPEEDUP)} |"
        )
        lines.append(
            f"| peak memory ≤ 1/4 of MVT's | {_f(big['memory_ratio'], '{:.2f}')} of MVT's "
            f"({_f(big['unmask']['median_peak_mb'], '{:.0f}')} MB vs "
            f"{_f(big['mvt']['median_peak_mb'], '{:.0f}')} MB) | "
            f"{_ok(big['memory_ratio'] <= TARGET_MEMORY)} |"
        )
        lines.append(
            f"| every detection MVT makes | {cmp_['common_indicators']} of "
            f"{cmp_['common_indicators'] + len(cmp_['missed_indicators'])} indicator detections, "
            f"missed heuristics: {', '.join(cmp_['missed_heuristics']) or 'none'} | "
            f"{_ok(cmp_['unmask_finds_all'])} |"
        )
    elif big is not None:
        lines.append(f"| end to end vs MVT | MVT not run: {r['mvt']['note']} | n/a |")
    matching = r.get("matching") or []
    top = max(matching, key=lambda m: m["indicators"]) if matching else None
    if top is not None:
        stored = top.get("obs_per_s_stored")
        lines.append(
            f"| matching ≥ {TARGET_MATCH:,} observables/s with {top['indicators']:,} indicators | "
            f"{top['obs_per_s']:,.0f}/s"
            + (f" ({stored:,.0f}/s over the objects as a scan leaves them)" if stored else "")
            + " | "
            f"{_ok(top['obs_per_s'] >= TARGET_MATCH) if top['indicators'] >= 10**6 else 'n/a (smaller set)'}"
            " |"
        )
    load = r.get("loading")
    if load and "mvt" in load:
        warm, cold = load["mvt"] / load["unmask_warm"], load["mvt"] / load["unmask_cold"]
        lines.append(
            f"| loading the public sets ≥ {TARGET_LOAD:.0f}× faster than MVT | {warm:.1f}× warm cache, "
            f"{cold:.1f}× cold (no cache) | warm {_ok(warm >= TARGET_LOAD)}, "
            f"cold {_ok(cold >= TARGET_LOAD)} |"
        )
    return lines


def _end_to_end(r: dict[str, Any]) -> list[str]:
    lines = [
        "| backup | Manifest rows | messages / visits / WhatsApp / processes | on disk | unmask wall (s) "
        "| MVT wall (s) | speed-up | unmask peak (MB) | MVT peak (MB) | memory ratio | alerts unmask / MVT "
        "| unmask finds all MVT's |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in r.get("end_to_end", []):
        c = row["counts"]
        u, m = row["unmask"], row.get("mvt")
        cmp_ = row.get("comparison")
        lines.append(
            f"| {row['size']} | {row['rows']:,} | {c['messages']:,} / {c['visits']:,} / {c['whatsapp']:,} / "
            f"{c['processes']:,} | {row['disk_mb']:.0f} MB | {_f(u['median_wall'])} | "
            f"{_f(m['median_wall']) if m else 'n/a'} | {_f(row.get('speedup'), '{:.1f}×')} | "
            f"{_f(u['median_peak_mb'], '{:.0f}')} | {_f(m['median_peak_mb'], '{:.0f}') if m else 'n/a'} | "
            f"{_f(row.get('memory_ratio'))} | {row['unmask_detections']['alerts']} / "
            f"{row['mvt_detections']['alerts'] if m else 'n/a'} | "
            f"{('yes' if cmp_['unmask_finds_all'] else 'NO') if cmp_ else 'n/a'} |"
        )
    lines += ["", *_stages(r)]
    lines.append("")
    lines.append("Every run, in order (wall s / peak MB, one-minute load average before the run):")
    lines.append("")
    for row in r.get("end_to_end", []):
        for tool in ("unmask", "mvt"):
            t = row.get(tool)
            if not t:
                continue
            runs = ", ".join(
                f"{w:.2f} s / {p:.0f} MB (load {la:.2f})"
                for w, p, la in zip(t["walls"], t["peaks_mb"], t["load_avg"], strict=False)
            )
            lines.append(f"- {row['size']}, {'MVT' if tool == 'mvt' else 'unmask'}: {runs}")
    return lines


def _stages(r: dict[str, Any]) -> list[str]:
    """unmask's own per-stage seconds (``info.json`` ``extra.timings``) of the last measured run per size."""
    rows = [row for row in r.get("end_to_end", []) if row.get("unmask_timings")]
    if not rows:
        return []
    stages = ["open", "indicators", "parse", "match", "heuristics"]
    lines = [
        "unmask's stages in the last measured run (seconds; *rest* = wall time minus the stages: interpreter "
        "start-up, imports, writing the results):",
        "",
        "| backup | " + " | ".join(stages) + " | slowest parsers | rest | wall |",
        "|---|" + "---:|" * len(stages) + "---|---:|---:|",
    ]
    for row in rows:
        t = row["unmask_timings"]
        wall = row["unmask"]["walls"][-1]
        slow = sorted(((k[6:], v) for k, v in t.items() if k.startswith("parse:")), key=lambda kv: -kv[1])[:3]
        rest = wall - sum(t.get(k, 0.0) for k in stages)
        lines.append(
            f"| {row['size']} | "
            + " | ".join(f"{t.get(k, 0.0):.2f}" for k in stages)
            + " | "
            + ", ".join(f"{k} {v:.2f}" for k, v in slow)
            + f" | {rest:.2f} | {wall:.2f} |"
        )
    return lines


def _detections(r: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for row in r.get("end_to_end", []):
        ud = row["unmask_detections"]
        lines.append(
            f"**{row['size']}** — planted traces: {len(row['planted'])}, missed by unmask: "
            f"{len(row['planted_missed'])}. unmask alerts by level: {ud['by_level']}; heuristics: "
            f"{', '.join(ud['heuristics']) or 'none'}."
        )
        if row.get("mvt_note"):
            lines.append(f"Note: {row['mvt_note']}.")
        if "mvt" in row:
            md, cmp_ = row["mvt_detections"], row["comparison"]
            lines.append(
                f"MVT alerts by level: {md['by_level']}; MVT modules alerting without an indicator: "
                f"{', '.join(md['heuristics']) or 'none'}."
            )
            lines.append("")
            lines.append("| detection (collection, indicator) | MVT | unmask |")
            lines.append("|---|---|---|")
            both = set(map(tuple, md["indicators"])) | set(map(tuple, ud["indicators"]))
            for coll, value in sorted(both):
                in_m = [coll, value] in md["indicators"] or (coll, value) in md["indicators"]
                in_u = [coll, value] in ud["indicators"] or (coll, value) in ud["indicators"]
                mark_m, mark_u = ("yes" if in_m else "—"), ("yes" if in_u else "—")
                lines.append(f"| {coll} `{value}` | {mark_m} | {mark_u} |")
            if cmp_["missed_heuristics"]:
                lines.append("")
                lines.append(
                    f"MVT heuristic detections unmask does not make: {', '.join(cmp_['missed_heuristics'])}."
                )
        lines.append("")
    return lines


def _loading(r: dict[str, Any]) -> list[str]:
    load = r.get("loading")
    if not load:
        return ["Not run."]
    lines = ["| loader | indicators | seconds (median) | vs MVT |", "|---|---:|---:|---:|"]
    mvt = load.get("mvt")
    for key, label in (
        ("unmask_cold", "unmask, cold (every file parsed, no cache)"),
        ("unmask_first_run", "unmask, first run (empty cache: parsed and cached)"),
        ("unmask_warm", "unmask, warm (cache)"),
    ):
        if key not in load:
            continue
        lines.append(
            f"| {label} | {load['unmask_indicators']:,} | {load[key]:.3f} | "
            f"{_f(mvt / load[key] if mvt else None, '{:.1f}× faster')} |"
        )
    if mvt is not None:
        lines.append(
            f"| MVT `Indicators.load_indicators_files` | {load['mvt_indicators']:,} | {mvt:.3f} | 1× |"
        )
    lines.append("")
    split = load.get("unmask_warm_split") or {}
    if split:
        lines.append(
            f"unmask warm, split: reading the compiled cache {split['load']:.3f} s, building the index "
            f"{split['index']:.3f} s."
        )
        lines.append("")
    lines.append(
        f"{load['files']} files. unmask's time includes building its index. Counts differ because MVT "
        "de-duplicates per collection and drops the pattern types it does not know (e.g. ipv6, OR "
        "patterns), and unmask keeps one entry per (type, value, collection)."
    )
    return lines


def _matching(r: dict[str, Any]) -> list[str]:
    rows = r.get("matching")
    if not rows:
        return ["Not run."]
    lines = [
        "| indicators | indexed | load (s) | index build (s) | observables per pass | hits per pass "
        "| observables/s | observables/s, objects as stored |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        stored = m.get("obs_per_s_stored")
        lines.append(
            f"| {m['indicators']:,} | {m['indexed']:,} | {m['load_s']:.2f} ({m.get('load_cache', '?')} "
            f"cache) | {m['build_s']:.2f} | "
            f"{m['observables']:,} | {m['hits_per_pass']:,} | {m['obs_per_s']:,.0f} | "
            f"{f'{stored:,.0f}' if stored else 'n/a'} |"
        )
    kinds = list(rows[-1].get("by_type", {}))
    if kinds:
        lines += [
            "",
            "Observables/s by observable type (share of the stream in brackets):",
            "",
            "| indicators | " + " | ".join(f"{k} ({rows[-1]['by_type'][k][0]:,})" for k in kinds) + " |",
            "|---:|" + "---:|" * len(kinds),
        ]
        for m in rows:
            bt = m.get("by_type", {})
            lines.append(
                f"| {m['indicators']:,} | "
                + " | ".join(f"{bt[k][1]:,.0f}" if k in bt else "n/a" for k in kinds)
                + " |"
            )
    return lines


def _profile(r: dict[str, Any]) -> list[str]:
    p = r.get("profile")
    if not p:
        return ["Not run (smoke run, or `--skip-profile`)."]
    plain = p["plain"]["timings"]
    stages = sorted(((k, v) for k, v in plain.items() if not k.startswith("parse:")), key=lambda kv: -kv[1])
    parsers = sorted(((k[6:], v) for k, v in plain.items() if k.startswith("parse:")), key=lambda kv: -kv[1])[
        :6
    ]
    lines = [
        f"`unmask.api.check_backup` on the {p['size']} backup, without profiler: "
        f"{p['plain']['seconds']:.2f} s in-process (interpreter start-up and imports excluded).",
        "",
        "| stage | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v:.3f} |" for k, v in stages]
    lines += [
        "",
        "Slowest parsers: " + ", ".join(f"{k} {v:.3f} s" for k, v in parsers) + ".",
        "",
        f"Under cProfile ({p['profiled']['wall_under_profiler']:.1f} s), the functions with the most own "
        "time:",
        "",
        "| function | calls | own s | cumulative s |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| `{x['function']}` | {x['calls']:,} | {x['tottime']:.3f} | {x['cumtime']:.3f} |"
        for x in p["profiled"]["top_tottime"][:15]
    ]
    mem = p.get("memory")
    if mem:
        records = int(mem.pop("records", 0))
        lines += [
            "",
            f"Peak RSS after each step of the same scan by hand ({records:,} records):",
            "",
            "| after | peak RSS (MB) |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {v:.0f} |" for k, v in mem.items()]
    sites = p.get("memory_sites")
    if sites:
        lines += [
            "",
            f"Where the memory held after a scan without an output folder (every record kept, as for "
            f"library use) was allocated (tracemalloc, on `{sites['backup']}`):",
            "",
            "| line | MB | blocks | bytes per record |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| `{x['line']}` | {x['mb']:.2f} | {x['blocks']:,} | {x['bytes_per_record']:,} |"
            for x in sites["sites"]
        ]
    return lines


def render(r: dict[str, Any]) -> str:
    """The whole markdown document."""
    m = r["machine"]
    mvt = r["mvt"]
    title = "# Benchmarks (smoke run)" if r["smoke"] else "# Benchmarks: unmask and MVT side by side"
    out = [
        title,
        "",
        "Generated by `make bench` (`python -m bench.run`); do not edit by hand. Raw numbers: "
        "`bench/out/results.json`. How the inputs are built and measured: `bench/` (module docstrings).",
        "",
        f"- Date: {r['started']} – {r['finished']} (UTC)",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['os']}, Python {m['python']}",
        f"- unmask {r['unmask_version']} at commit {r.get('revision', 'unknown')}; peer: {mvt['note']}",
        f"- Load average (1 min) at start {r['load_avg_start']:.2f}, at end {r['load_avg_end']:.2f}; the "
        "machine was shared with other work, so treat small differences as noise.",
        f"- Indicator sets: the {len(r['ioc_files'])} public sets bundled with unmask, passed to both tools "
        "explicitly: " + ", ".join(f"`{f}`" for f in r["ioc_files"]),
        f"- {r['runs']} measured run(s) per tool and backup, alternating unmask / MVT, after one untimed "
        f"warm-up run of each{' (none in the smoke run)' if r['smoke'] else ''}; medians reported. Wall time "
        "and peak RSS of the tool process, measured from a fresh wrapper process (`bench/measure.py`).",
        "",
        "## Targets",
        "",
        *_targets(r),
        "",
        "What limits the end-to-end figure, what was changed to get here and what would come next: "
        "[performance.md](performance.md) (written by hand, from the profile at the end of this page).",
        "",
        "## End to end: `check-backup`",
        "",
        *_end_to_end(r),
        "",
        "## Detections",
        "",
        "Compared by (collection, indicator value); heuristics by the published rule (`bench/compare.py`).",
        "",
        *_detections(r),
        "## Loading the public sets",
        "",
        *_loading(r),
        "",
        "## Matching throughput",
        "",
        "`IndicatorIndex.build(...)` over synthetic STIX 2.1 bundles (`bench/synthetic.py`: mostly domains, "
        "then "
        "IPs, processes, emails, paths, names, hashes, app ids), then `.lookup(obs.type, obs.value)` over already expanded "
        "observables: all the observables of the small backup's records plus about 1 % that hit the set, "
        "shuffled. Single thread. The main figure matches fresh copies of the observables in that order "
        "(a scan matches each value right after expanding it, while it is in cache); the last column "
        "matches the objects as the scan left them, scattered over the heap, which adds cache misses "
        "on the benchmark's own list.",
        "",
        *_matching(r),
        "",
        "## Payload screening (`scan-files`)",
        "",
        f"{(r.get('payloads') or {}).get('status', 'not run')}",
        "",
        *(["```", r["payloads"]["detail"], "```", ""] if (r.get("payloads") or {}).get("detail") else []),
        "## Where unmask's time goes",
        "",
        *_profile(r),
        "",
        "## Commands",
        "",
        "```sh",
        "make bench          # everything above; installs MVT into bench/.mvt-venv if needed",
        "make bench-smoke    # CI: the small backup only, no MVT install",
        "```",
        "",
        "Each tool run, exactly (one `--iocs` per public set file):",
        "",
        "```sh",
        "# unmask (UNMASK_CACHE_DIR=bench/data/unmask-cache, UNMASK_IOCS unset)",
        " ".join(r["unmask_cmd"]).replace(str(r["unmask_cmd"][0]).rsplit("/", 1)[0] + "/", ".venv/bin/"),
        "# MVT (MVT_NETWORK_ACCESS_ALLOWED=false; MVT_DATA_FOLDER, MVT_CONFIG_FOLDER in bench/out/mvt-home)",
        " ".join(r["mvt_cmd"]).replace(str(r["mvt_cmd"][0]).rsplit("/", 1)[0] + "/", "bench/.mvt-venv/bin/"),
        "```",
        "",
    ]
    if r.get("failures"):
        out += ["## Failures", "", *[f"- {f}" for f in r["failures"]], ""]
    return "\n".join(out)
