from pathlib import Path

from tests.builders.android import (
    AndroidQFBuilder,
    battery_daily,
    battery_history,
    bugreport_text,
    dumpsys_block,
    run_on,
    write_bugreport,
)
from unmask.parsers.android.dumpsys_battery_history import (
    DumpsysBatteryHistoryParser,
    duration_ms,
    package_in,
)

EVENTS = [
    ("+47s645ms", '+job=u0a94:"com.samsung.android.app.reminder/.data.RegisterAlarmJobService"'),
    ("+1h26m18s315ms", '+top=u0a280:"com.whatsapp"'),
    ("+2h00m00s000ms", 'pkginst=42:"com.android.sys.update"'),
    ("+2h05m00s000ms", '+wake_lock=u0a44:"*alarm*" wake_reason=0:"Abort:Pending Wakeup Sources"'),
    ("+1d02h00m00s000ms", 'pkgunin=0:"com.android.sys.update"'),
]


def test_installs_removals_and_foreground_at_wall_clock_times(tmp_path: Path) -> None:
    body = battery_history("2024-05-01-18-02-17", EVENTS) + battery_daily([])
    root = AndroidQFBuilder().add_dumpsys("batterystats", body).write_folder(tmp_path / "a")
    records, _ = run_on(DumpsysBatteryHistoryParser, root)
    got = [(r.event, r.package, r.value, r.time.isoformat() if r.time else None) for r in records]
    # RESET:TIME is Paris local time (UTC+2 in May): 18:02:17 local is 16:02:17 UTC.
    assert got == [
        ("+job", "com.samsung.android.app.reminder", "u0a94", "2024-05-01T16:03:04.645000+00:00"),
        ("+top", "com.whatsapp", "u0a280", "2024-05-01T17:28:35.315000+00:00"),
        ("pkginst", "com.android.sys.update", "42", "2024-05-01T18:02:17+00:00"),
        ("pkgunin", "com.android.sys.update", "0", "2024-05-02T18:02:17+00:00"),
    ]
    assert records[0].time_inferred == "zone"


def test_the_same_block_inside_a_bugreport(tmp_path: Path) -> None:
    text = bugreport_text(dumpsys=[dumpsys_block("batterystats", battery_history("2024-05-01-18-02-17", EVENTS[2:3]))])
    records, _ = run_on(DumpsysBatteryHistoryParser, write_bugreport(tmp_path / "b.zip", text))
    assert [(r.event, r.package) for r in records] == [("pkginst", "com.android.sys.update")]


def test_time_lines_reanchor_and_events_before_any_time_have_none(tmp_path: Path) -> None:
    body = ("Battery History (1% used):\n"
            "                    0 (2) 100 pkginst=3:\"com.early.app\"\n"
            "          +10s000ms (3) TIME: 2024-05-01-20-00-00\n"
            "          +12s500ms (2) 100 +top=u0a1:\"com.late.app\"\n"
            "     +garbage (2) 100 +top=u0a1:\"com.bad.offset\"\n"
            "\n"
            "          +20s000ms (2) 100 +top=u0a1:\"com.after.block\"\n")
    records, _ = run_on(DumpsysBatteryHistoryParser, AndroidQFBuilder().add_dumpsys("batterystats", body).write_folder(tmp_path / "a"))
    assert [(r.package, r.time.isoformat() if r.time else None) for r in records] == [
        ("com.early.app", None), ("com.late.app", "2024-05-01T18:00:02.500000+00:00")]


def test_durations_and_tags() -> None:
    assert duration_ms("0") == 0
    assert duration_ms("+2d23h22m24s588ms") == ((2 * 24 + 23) * 3600 + 22 * 60 + 24) * 1000 + 588
    assert duration_ms("-1m") == -60_000
    assert duration_ms("+1x") is None and duration_ms("+") is None
    assert duration_ms("+99999999999999d") is None  # centuries: damaged or crafted
    assert package_in("*walarm*:com.x.y/.Receiver") == "com.x.y"
    assert package_in("*alarm*") is None and package_in("Abort:Pending") is None
