from pathlib import Path

from tests.builders.android import AndroidQFBuilder, bugreport_text, run_on, write_bugreport
from unmask.parsers.android.ps import PsParser


def test_processes_txt_of_androidqf_is_read(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_text("processes.txt", "USER PID PPID VSZ RSS WCHAN ADDR S NAME\n"
                                    "root 1 0 10 2 0 0 S init\nu0_a9 4242 1 10 2 0 0 S com.evil.app\n")
    records, _ = run_on(PsParser, b.write_folder(tmp_path / "a"))
    assert [(r.pid, r.name, r.app) for r in records] == [(1, "init", None), (4242, "com.evil.app", "com.evil.app")]


def test_the_bugreport_process_section_with_threads_gives_one_record_per_process(tmp_path: Path) -> None:
    ps = ("LABEL USER PID TID PPID VSZ RSS WCHAN ADDR S PRI NI RTPRIO SCH PCY TIME CMD\n"
          "u:r:init:s0 root 1 1 0 1 1 0 0 S 19 0 - 0 fg 00:00:01 init\n"
          "u:r:init:s0 root 1 2 0 1 1 0 0 S 19 0 - 0 fg 00:00:01 init\n")
    root = write_bugreport(tmp_path / "b.zip", bugreport_text(ps=ps))
    records, _ = run_on(PsParser, root)
    assert [(r.pid, r.label) for r in records] == [(1, "u:r:init:s0")]


def test_ps_txt_of_older_androidqf_acquisitions_is_read(tmp_path: Path) -> None:
    # The name MVT's own AndroidQF fixture (and its processes module) uses.
    b = AndroidQFBuilder().set_text("ps.txt", "USER PID PPID VSZ RSS WCHAN ADDR S NAME\n"
                                    "root 1 0 57912 2084 0 0 S init\nu0_a9 4242 1 10 2 0 0 S com.evil.app\n")
    b.set_text("getprop.txt", "[ro.product.model]: [Pixel 8]\n")
    records, _ = run_on(PsParser, b.write_folder(tmp_path / "a"))
    assert [(r.pid, r.name) for r in records] == [(1, "init"), (4242, "com.evil.app")]
