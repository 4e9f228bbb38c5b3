from pathlib import Path

from tests.builders.android import AndroidQFBuilder, run_on
from unmask.parsers.android.acquisition_info import AcquisitionInfoParser


def test_acquisition_json_gives_uuid_version_and_utc_times(tmp_path: Path) -> None:
    records, _cov = run_on(AcquisitionInfoParser, AndroidQFBuilder().write_folder(tmp_path / "a"))
    (info,) = records
    assert info.uuid == "4c1a9d8e-2b7f-4f3e-9a51-0d6f2c8b7e10" and info.androidqf_version == "v1.8.2"
    assert info.started.isoformat() == "2024-05-02T08:00:00.123456+00:00"


def test_a_damaged_acquisition_json_fails_with_a_reason(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_text("acquisition.json", "{not json").set_text("packages.json", "[]")
    records, cov = run_on(AcquisitionInfoParser, b.write_folder(tmp_path / "a"))
    assert records == [] and cov.status.value == "failed" and "not JSON" in cov.reason
