"""process-without-binary: a usage-database process whose binary no path of the dump carries."""

from __future__ import annotations

from tests.builders.ios_backup import BackupBuilder
from tests.builders.ios_fs import DumpBuilder
from tests.builders.run import run, run_evidence
from unmask.detect.heuristics.base import HeuristicContext, Heuristics, registry
from unmask.detect.heuristics.process_without_binary import ProcessWithoutBinary, _Bloom
from unmask.model import Record, Severity
from unmask.parsers.ios.datausage import DataUsageParser
from unmask.parsers.ios.filesystem import FilesystemParser
from unmask.parsers.ios.netusage import NetusageParser

PROCESSES = [
    {"Z_PK": 1, "ZPROCNAME": "nsurlsessiond"},  # /usr/libexec/nsurlsessiond is on the dump
    {"Z_PK": 2, "ZPROCNAME": "bh"},  # Pegasus: gone from the disk
    {"Z_PK": 3, "ZPROCNAME": "WhatsApp", "ZBUNDLENAME": "net.whatsapp.WhatsApp"},  # an app: judged by its bundle
    {"Z_PK": 4, "ZPROCNAME": "kernel_task"},  # no file by design
    {"Z_PK": 5, "ZPROCNAME": "com.apple.identi"},  # truncated name of identityservicesd... prefix
    {"Z_PK": 6, "ZPROCNAME": "imagent"},  # in a framework's app bundle on the dump
]


def _records(dump: DumpBuilder, *, system: bool = True) -> list[Record]:
    dump.system = system
    if system:
        dump.add_file("/usr/libexec/com.apple.identityservicesd.helper", b"\xcf\xfa\xed\xfe", mode=0o755)
    dump.add_sqlite("/private/var/networkd/db/netusage.sqlite", "ios/netusage.sqlite/ios14.sql", {"ZPROCESS": PROCESSES})
    evidence = dump.finish("tar")
    fs, _ = run_evidence(FilesystemParser, evidence)
    usage, _ = run_evidence(NetusageParser, evidence)
    return [*fs, *usage]


def test_a_process_without_a_binary_is_flagged_once(dump: DumpBuilder) -> None:
    records = _records(dump)
    findings = list(ProcessWithoutBinary().check(records, HeuristicContext()))
    assert [f.locator for f in findings] == ["ZPROCESS.Z_PK=2"]
    (finding,) = findings
    assert (finding.rule, finding.severity) == ("process-without-binary", Severity.HIGH)
    assert "bh" in finding.message and finding.benign and finding.reference


def test_the_order_of_the_parsers_does_not_matter(dump: DumpBuilder) -> None:
    records = _records(dump)
    rules = Heuristics([ProcessWithoutBinary])
    for record in reversed(records):  # usage rows first, file entries after, one at a time
        rules.feed([record])
    assert [f.locator for f in rules.finish(HeuristicContext())] == ["ZPROCESS.Z_PK=2"]


def test_silent_without_the_system_volume(dump: DumpBuilder) -> None:
    records = _records(dump, system=False)
    assert list(ProcessWithoutBinary().check(records, HeuristicContext())) == []


def test_silent_on_a_backup(backup: BackupBuilder) -> None:
    backup.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite", "ios/DataUsage.sqlite/ios15.sql",
                      {"ZPROCESS": PROCESSES})
    records, _ = run(DataUsageParser, backup.finish())
    assert records and list(ProcessWithoutBinary().check(records, HeuristicContext())) == []


def test_the_bloom_filter_has_no_false_negatives() -> None:
    bloom = _Bloom()
    names = [f"file-{i}.dat" for i in range(50_000)]
    for name in names:
        bloom.add(name)
    assert all(name in bloom for name in names)
    assert sum(f"other-{i}" in bloom for i in range(50_000)) < 5


def test_registered() -> None:
    assert ProcessWithoutBinary in registry()
