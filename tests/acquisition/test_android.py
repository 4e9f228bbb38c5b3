"""Android acquisitions end to end: AndroidQF (folder, zip at the root or under one folder, age),
bugreports, .ab backups (plain, encrypted, wrong password), and MVT's defects as regressions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders.android import (
    AndroidQFBuilder,
    ab_backup,
    accessibility_v14,
    battery_daily,
    battery_history,
    bugreport_text,
    dumpsys_block,
    dumpsys_package,
    package_block,
    package_json,
    settings_text,
    sms_backup_file,
    write_bugreport,
)
from unmask import api
from unmask.acquisition.registry import open_acquisition
from unmask.errors import AcquisitionError

ECHAP_CERT = "31A6ECECD97CF39BC4126B8745CD94A7C30BF81C"  # TheTruthSpy, echap__stalkerware.stix2
REPO = Path(__file__).resolve().parents[2]


def _planted() -> AndroidQFBuilder:
    b = AndroidQFBuilder()
    b.set_json("packages.json", [
        # Renamed to an unknown id, but signed with a certificate Echap lists.
        package_json("com.android.sys.update", installer="null", cert_sha1=ECHAP_CERT),
        # A legitimate look-alike of a listed id (com.thetruth), store-installed, its own certificate.
        package_json("com.thetruthtable.app", subject="C=US, O=Truth Table Inc., CN=Truth"),
    ])
    b.add_dumpsys("package", dumpsys_package([package_block("com.android.sys.update", installer=None)]))
    return b


def _rules(result: api.ScanResult) -> set[tuple[str, str | None]]:
    return {(f.rule, f.observable.value if f.observable else f.message) for f in result.findings}


def test_renamed_stalkerware_is_found_by_its_certificate_and_the_look_alike_is_not(tmp_path: Path) -> None:
    result = api.check(_planted().write_folder(tmp_path / "a"), screen=False)
    certs = [f for f in result.findings if f.observable and f.observable.type.value == "app:cert.sha1"]
    assert [f.record.package for f in certs] == ["com.android.sys.update"]
    assert certs[0].indicator.collection.lower() == "thetruthspy"
    assert not any("thetruthtable" in f.message for f in result.findings)


def test_same_findings_from_the_folder_its_zip_and_a_zip_with_one_folder(tmp_path: Path) -> None:
    b = _planted()
    folder = api.check(b.write_folder(tmp_path / "a"), screen=False)
    root_zip = api.check(b.write_zip(tmp_path / "root.zip"), screen=False)  # MVT misses files at the zip's root
    one_folder = api.check(b.write_zip(tmp_path / "sub.zip", folder=True), screen=False)
    assert folder.acquisition_kind == root_zip.acquisition_kind == one_folder.acquisition_kind == "androidqf"
    assert _rules(folder) == _rules(root_zip) == _rules(one_folder) and _rules(folder)


def test_dumpsys_txt_is_analysed_without_a_bugreport_and_the_bugreport_fills_in(tmp_path: Path) -> None:
    b = AndroidQFBuilder().add_dumpsys("accessibility", accessibility_v14(["com.spy/.A"]))
    report = bugreport_text(dumpsys=[dumpsys_block("accessibility", accessibility_v14(["com.other/.B"])),
                                     dumpsys_block("package", dumpsys_package([package_block("com.spy")]))])
    b.files["bugreport.zip"] = write_bugreport(tmp_path / "br.zip", report).read_bytes()
    acq = open_acquisition(b.write_folder(tmp_path / "a"))
    try:
        assert "dumpsys:accessibility" in acq.sections() and "dumpsys:package" in acq.sections()
        with acq.open_section("dumpsys:accessibility") as h:
            assert b"com.spy" in h.read()  # AndroidQF's own dumpsys.txt wins
        with acq.open_section("dumpsys:package") as h:
            assert b"com.spy" in h.read()  # the bugreport's, as AndroidQF has none
    finally:
        acq.close()


def test_age_encrypted_acquisition_with_the_right_identity_and_a_wrong_one(tmp_path: Path) -> None:
    from pyrage import x25519

    ident, other = x25519.Identity.generate(), x25519.Identity.generate()
    age = _planted().write_age(tmp_path / "acq.zip.age", ident.to_public())
    (tmp_path / "id.txt").write_text(f"# created: now\n{ident}\n")
    (tmp_path / "other.txt").write_text(f"{other}\n")
    from unmask.acquisition.options import OpenOptions

    result = api.check(age, options=OpenOptions(age_identity=tmp_path / "id.txt"), screen=False)
    assert any(f.observable and f.observable.type.value == "app:cert.sha1" for f in result.findings)
    with pytest.raises(AcquisitionError, match="does not decrypt"):
        open_acquisition(age, options=OpenOptions(age_identity=tmp_path / "other.txt"))
    with pytest.raises(AcquisitionError, match="--age-identity"):
        open_acquisition(age)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("UNMASK_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "unmask", *args], capture_output=True, text=True, env=full, cwd=REPO,
                          stdin=subprocess.DEVNULL, timeout=300)


def test_wrong_backup_password_and_wrong_age_identity_are_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "b.ab").write_bytes(ab_backup({"apps/x/f/a": b"x"}, password="right"))
    done = _cli("check-android-backup", str(tmp_path / "b.ab"), "-q", env={"UNMASK_BACKUP_PASSWORD": "wrong"})
    assert done.returncode == 2 and "wrong password" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    from pyrage import x25519

    age = _planted().write_age(tmp_path / "a.zip.age", x25519.Identity.generate().to_public())
    (tmp_path / "other.txt").write_text(f"{x25519.Identity.generate()}\n")
    done = _cli("check-androidqf", str(age), "--age-identity", str(tmp_path / "other.txt"), "-q")
    assert done.returncode == 2 and "does not decrypt" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("version", [1, 2, 5])
@pytest.mark.parametrize("password", [None, "s3cr\u00e9t"])
def test_ab_backups_plain_and_encrypted_give_the_sms(tmp_path: Path, version: int, password: str | None) -> None:
    sms = sms_backup_file([{"address": "+33", "body": "go to https://copy9.com/x", "date": "1714640000000", "type": "1"}])
    (tmp_path / "b.ab").write_bytes(ab_backup({"apps/com.android.providers.telephony/d_f/000000_sms_backup": sms},
                                              password=password, version=version))
    from unmask.acquisition.options import OpenOptions

    result = api.check(tmp_path / "b.ab", options=OpenOptions(password=lambda: password or ""), screen=False)
    assert result.acquisition_kind == "android-backup"
    assert any(f.observable and f.observable.value == "copy9.com" for f in result.findings)


def test_bugreport_zip_and_folder_and_the_check_bugreport_verb(tmp_path: Path) -> None:
    report = bugreport_text(dumpsys=[dumpsys_block("package", dumpsys_package([package_block("com.apspy.app", installer=None)]))])
    (tmp_path / "ev").mkdir()
    zipped = write_bugreport(tmp_path / "ev" / "b.zip", report)
    folder = write_bugreport(tmp_path / "bf", report, as_folder=True)
    a, b = api.check(zipped, screen=False), api.check(folder, screen=False)
    assert a.acquisition_kind == b.acquisition_kind == "bugreport"
    assert _rules(a) == _rules(b) and any(f.rule == "indicator" for f in a.findings)
    assert a.metadata["timezone"] == "Europe/Paris"
    done = _cli("check-bugreport", str(zipped), "-q", "-o", str(tmp_path / "out"))
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "out" / "dumpsys_package.json").is_file()


def test_evidence_is_not_modified(tmp_path: Path) -> None:
    import hashlib

    root = _planted().set_text("settings_secure.txt", settings_text({"package_verifier_enable": "0"})).write_folder(tmp_path / "a")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}
    api.check(root, output=tmp_path / "out", screen=False)
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_echap_certificate_organisations_and_package_name_patterns_match_end_to_end(tmp_path: Path) -> None:
    """The bundled echap__stalkerware-patterns.stix2 (tools/echap_stix.py from Echap's ioc.yaml):
    a renamed app signed by a stalkerware vendor's certificate organisation, and a new build of an
    app whose package name carries its build date, are found; look-alikes are not."""
    b = AndroidQFBuilder()
    b.set_json("packages.json", [
        # KidsShield renamed: an id nobody lists, but its vendor's organisation and certificate name.
        package_json("com.family.safe.helper", installer="null",
                     subject="C=MD, O=Tesline-Service SRL, CN=Kids Safety 11-03-2024 09:15:00"),
        # MobiStealth's organisation, in another case.
        package_json("com.system.backup.svc", installer="null", subject="C=PK, O=MOBIZIM, CN=svc"),
        # iKeyMonitor's next build: the date in the name is one Echap has not listed.
        package_json("com.android.internet.a20240105", installer="null"),
        # Look-alikes: similar organisations, common names and package names, none of them listed.
        package_json("com.tesline.weather", subject="C=MD, O=Tesline Services SRL, CN=Kids Safety"),
        package_json("com.android.internet.browser", subject="C=US, O=Mobizim Labs, CN=Browser"),
        package_json("com.android.internet.a2024010", subject="C=US, O=Example Inc., CN=Example"),
        package_json("mobile.monitor.children", subject="C=US, O=Example Inc., CN=Example"),
    ])
    result = api.check(b.write_folder(tmp_path / "a"), screen=False)
    found = {(f.record.package, f.observable.type.value, f.indicator.type, f.indicator.collection)
             for f in result.findings if f.rule == "indicator"}
    assert found == {
        ("com.family.safe.helper", "app:cert.organization", "app:cert.organization", "KidsShield"),
        ("com.family.safe.helper", "app:cert.common_name", "app:cert.common_name MATCHES", "KidsShield"),
        ("com.system.backup.svc", "app:cert.organization", "app:cert.organization", "MobiStealth"),
        ("com.android.internet.a20240105", "app:id", "app:id MATCHES", "iKeyMonitor"),
    }
    assert {s.name for s in result.indicator_sets.sets} >= {"echap__stalkerware.stix2", "echap__stalkerware-patterns.stix2"}


def test_one_sideloaded_finding_per_app_and_the_removed_app_from_battery_stats(tmp_path: Path) -> None:
    b = _planted()
    b.add_dumpsys("batterystats", battery_history("2024-05-01-18-02-17", [
        ("+2h00m00s000ms", 'pkginst=7:"com.wipe.me"'), ("+3h00m00s000ms", 'pkgunin=0:"com.wipe.me"')])
        + battery_daily([("2024-05-01-03-00-00", "2024-05-02-03-00-00", [("com.wipe.me", 7), ("com.wipe.me", None)])]))
    b.add_dumpsys("accessibility", accessibility_v14(["com.android.sys.update/.Keys"], bound=["com.android.sys.update/.Keys"]))
    result = api.check(b.write_folder(tmp_path / "a"), screen=False)
    side = [f for f in result.findings if f.rule == "android-sideloaded-app"]
    assert [f.record.package for f in side] == ["com.android.sys.update"]  # packages.json and dumpsys: one finding
    assert "packages.json" in side[0].message and "dumpsys:package" in side[0].message
    removed = [f for f in result.findings if f.rule == "android-package-removed"]
    assert [f.record.package for f in removed] == ["com.wipe.me"]
    assert removed[0].timestamp.isoformat() == "2024-05-01T19:02:17+00:00"
    assert "installed at 2024-05-01 18:02:17 UTC (version 7)" in removed[0].message
    access = [f for f in result.findings if f.rule == "android-accessibility-service"]
    assert [f.message.split(" (")[0] for f in access] == [
        "accessibility service com.android.sys.update/com.android.sys.update.Keys is bound, enabled"]


def test_device_files_of_nested_acquisitions_are_read_through_the_androidqf(tmp_path: Path) -> None:
    # Found by the fuzzer's seed harvest: a nested bugreport's FS/ files and a nested backup.ab's
    # files were listed and globbed through the AndroidQF acquisition, but opening them asked the
    # AndroidQF's own tree (FileNotFoundError: every such artefact failed).
    from tests.builders.android_sample import write_sample_androidqf
    from unmask.parsers.android.sms_backup import SmsBackupParser
    from unmask.parsers.android.tombstones import TombstonesParser
    from unmask.parsers.base import run_parser

    (tmp_path / "aqf").mkdir()
    with open_acquisition(write_sample_androidqf(tmp_path / "aqf")) as acq:
        for parser, count in ((SmsBackupParser, 2), (TombstonesParser, 2)):
            records, coverage = run_parser(parser(), acq)
            assert coverage.status.value == "parsed" and len(records) == count, coverage.artefacts
        tombstone = "/data/tombstones/tombstone_00"
        assert acq.read_bytes(tombstone).startswith(b"*** ***") and acq.sha256(tombstone)


@pytest.mark.parametrize("layout", ["folder", "zip-root", "zip-folder"])
def test_an_acquisition_of_getprop_alone_is_recognised_and_a_folder_that_only_holds_one_is_not(
        tmp_path: Path, layout: str) -> None:
    # MVT's own androidqf.zip sample holds one folder with getprop.txt in it (a zip with its folder
    # entry): getprop.txt is AndroidQF's own name, so it alone among AndroidQF's files is enough.
    import zipfile

    from unmask.acquisition.registry import recognise

    getprop = b"[ro.product.model]: [SM-G991B]\n[ro.build.version.release]: [13]\n"
    if layout == "folder":
        (tmp_path / "aqf").mkdir()
        (tmp_path / "aqf" / "getprop.txt").write_bytes(getprop)
        path = tmp_path / "aqf"
    else:
        path = tmp_path / "aqf.zip"
        with zipfile.ZipFile(path, "w") as z:
            if layout == "zip-folder":
                z.writestr("androidqfzip/", b"")
            z.writestr("androidqfzip/getprop.txt" if layout == "zip-folder" else "getprop.txt", getprop)
    assert [cls.kind for cls, _ in recognise(path)] == ["androidqf"]
    result = api.check(path, screen=False)
    assert [c.status.value for c in result.coverage if c.parser == "getprop"] == ["parsed"]
    # A folder of someone's notes that merely includes a getprop.txt is not an acquisition.
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "getprop.txt").write_bytes(getprop)
    (tmp_path / "notes" / "todo.txt").write_bytes(b"call the helpline\n")
    assert recognise(tmp_path / "notes") == []


def test_a_folder_with_only_the_backup_of_an_androidqf_run_is_that_acquisition(tmp_path: Path) -> None:
    # An AndroidQF run that took only the backup (MVT's androidqf_encrypted fixture is such a folder).
    from tests.builders.android_sample import sms_backup
    from unmask.acquisition.registry import recognise

    (tmp_path / "aqf").mkdir()
    (tmp_path / "aqf" / "backup.ab").write_bytes(sms_backup())
    assert [cls.kind for cls, _ in recognise(tmp_path / "aqf")] == ["androidqf"]
    result = api.check(tmp_path / "aqf", screen=False)
    assert [(c.status.value, c.records) for c in result.coverage if c.parser == "sms_backup"] == [("parsed", 2)]
