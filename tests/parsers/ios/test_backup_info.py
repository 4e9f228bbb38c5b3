from __future__ import annotations

from tests.builders.ios_backup import BackupBuilder
from tests.builders.run import run
from unmask.model import Obs, Status
from unmask.observables import observables_of
from unmask.parsers.ios.backup_info import BackupInfo, BackupInfoParser


def test_device_and_apps(make_backup) -> None:  # type: ignore[no-untyped-def]
    root = make_backup(ios_version="16.6", product_type="iPhone12,1").finish()
    records, cov = run(BackupInfoParser, root)
    assert cov.status is Status.PARSED
    (info,) = records
    assert isinstance(info, BackupInfo)
    assert (info.ios_version, info.product_type) == ("16.6", "iPhone12,1")
    assert (Obs.APP_ID, "net.whatsapp.whatsapp") in {(o.type, o.value) for o in observables_of(info)}


def test_garbage_info_plist_is_failed_coverage(backup: BackupBuilder) -> None:
    root = backup.finish()
    (root / "Info.plist").write_bytes(b"<plist><dict><key>broken")
    records, cov = run(BackupInfoParser, root)
    assert records == [] and cov.status is Status.FAILED and "plist" in (cov.reason or "")
