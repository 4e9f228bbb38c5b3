"""Fixtures: a sample backup with planted traces, scanned once per session, and a clean one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders.sample import Sample, build_sample
from unmask import api
from unmask.detect.indicators import sets


@pytest.fixture(scope="session")
def isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Indicator cache and data folders of their own, and no UNMASK_IOCS from the caller."""
    root = tmp_path_factory.mktemp("env")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(sets.ENV_CACHE, str(root / "cache"))
        mp.setenv(sets.ENV_DATA, str(root / "data"))
        mp.delenv(sets.ENV_IOCS, raising=False)
        yield


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The demo backup with traces planted from the public indicator sets."""
    return build_sample(tmp_path_factory.mktemp("sample") / "backup")


@pytest.fixture(scope="session")
def scanned(isolated_env: None, sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results folder of a scan of the sample (with report.html). Tests must not modify it."""
    out = tmp_path_factory.mktemp("scanned") / "results"
    api.check_backup(sample.root, output=out)
    return out


@pytest.fixture(scope="session")
def clean_scanned(isolated_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results folder of a scan of a sample without planted traces."""
    base = tmp_path_factory.mktemp("clean")
    built = build_sample(base / "backup", plant=False)
    out = base / "results"
    api.check_backup(built.root, output=out)
    return out


@pytest.fixture(scope="session")
def android_scanned(isolated_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results folder of an AndroidQF acquisition whose getprop names the device's zone
    (``persist.sys.timezone = Europe/Paris``), with timed findings: a payload in /data/local/tmp
    written at 2024-05-01 22:30:00 UTC (00:30 the next day in Paris) and a sideloaded app."""
    from tests.builders.android import AndroidQFBuilder, dumpsys_package, package_block, package_json

    base = tmp_path_factory.mktemp("android")
    b = AndroidQFBuilder()
    b.set_json("files.json", [
        {"path": "/data/local/tmp/pred.so", "size": 4096, "mode": "-rwxr-xr-x", "user_id": 2000, "group_id": 2000,
         "modified_time": 1714602600, "changed_time": 1714602600, "access_time": 1714602600},
        {"path": "/sdcard/DCIM/a.jpg", "size": 10, "mode": "-rw-rw----", "modified_time": 1714602000},
    ])
    b.set_json("packages.json", [package_json("com.example.helper", installer="null")])
    b.add_dumpsys("package", dumpsys_package([package_block("com.example.helper", installer=None,
                                                            first="2024-05-01 23:00:00")]))
    out = base / "results"
    api.check(b.write_folder(base / "aqf"), output=out)
    return out
