from pathlib import Path

from tests.builders.android import AndroidQFBuilder, package_json, run_on
from unmask.parsers.android.packages import PackagesParser


def test_packages_carry_apk_hashes_and_certificate_identity(tmp_path: Path) -> None:
    b = AndroidQFBuilder().set_json("packages.json", [package_json("com.x", subject="C=FR, O=Tesline-Service SRL, CN=Kids Safety")])
    (pkg,), _cov = run_on(PackagesParser, b.write_folder(tmp_path / "a"))
    assert pkg.package == "com.x" and pkg.installer == "com.android.vending" and pkg.system is False
    assert len(pkg.apk_sha256[0]) == 64 and len(pkg.cert_sha1[0]) == 40
    assert pkg.cert_organizations == ("Tesline-Service SRL",) and pkg.cert_common_names == ("Kids Safety",)


def test_a_truncated_packages_json_keeps_the_packages_before_the_damage(tmp_path: Path) -> None:
    import json

    text = json.dumps([package_json("com.a"), package_json("com.b")])
    b = AndroidQFBuilder().set_text("packages.json", text[: len(text) - 40])
    records, cov = run_on(PackagesParser, b.write_folder(tmp_path / "a"))
    assert [r.package for r in records] == ["com.a"] and cov.status.value == "partial"


def test_certificate_serial_numbers_past_64_bits_are_read(tmp_path: Path) -> None:
    # AndroidQF writes SerialNumber as a JSON number of Go's big.Int; the yajl C backend refuses
    # any past 64 bits ("integer overflow"), which lost every package after the first such one.
    entries = [package_json("com.a", serial=95546609658693033876995171563), package_json("com.b", serial=1),
               package_json("com.c", serial=2**159 + 7)]
    b = AndroidQFBuilder().set_json("packages.json", entries)
    records, cov = run_on(PackagesParser, b.write_folder(tmp_path / "a"))
    assert [r.package for r in records] == ["com.a", "com.b", "com.c"] and cov.status.value == "parsed"
