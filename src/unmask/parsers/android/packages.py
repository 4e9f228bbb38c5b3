"""AndroidQF packages.json: installed packages, their installer, APK hashes and signing certificates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from unmask.model import Obs, Record
from unmask.parsers.android._common import int_of, json_items, subject_field, text_of
from unmask.parsers.base import ParseContext, Parser, Source


@dataclass(frozen=True, slots=True, kw_only=True)
class AndroidPackage(Record):
    """One installed package as AndroidQF lists it (``adb/packages.go``: name, installer, uid,
    disabled, system, third_party, files with md5/sha1/sha256 computed on the device and the
    signing certificate read by avast/apkverifier: ``Md5``, ``Sha1``, ``Sha256``, ``Subject``…)."""

    kind: ClassVar[str] = "android/androidqf/package"
    summary: ClassVar[str] = "package {package} (installer {installer})"
    package: Annotated[str, Obs.APP_ID]
    installer: str | None = None
    uid: int | None = None
    system: bool | None = None
    third_party: bool | None = None
    disabled: bool | None = None
    apk_paths: Annotated[tuple[str, ...], Obs.FILE_PATH] = ()
    apk_sha256: Annotated[tuple[str, ...], Obs.SHA256] = ()
    apk_sha1: Annotated[tuple[str, ...], Obs.SHA1] = ()
    apk_md5: Annotated[tuple[str, ...], Obs.MD5] = ()
    cert_sha256: Annotated[tuple[str, ...], Obs.CERT_SHA256] = ()
    cert_sha1: Annotated[tuple[str, ...], Obs.CERT_SHA1] = ()
    cert_md5: Annotated[tuple[str, ...], Obs.CERT_MD5] = ()
    cert_subjects: tuple[str, ...] = ()
    cert_organizations: Annotated[tuple[str, ...], Obs.CERT_ORG] = ()
    cert_common_names: Annotated[tuple[str, ...], Obs.CERT_CN] = ()
    trusted_certificate: bool | None = None


def _add(values: list[str], value: object) -> None:
    text = text_of(value, 512)
    if text and text not in values:
        values.append(text)


class PackagesParser(Parser):
    """AndroidQF packages.json (read as a stream): package, installer, APK hashes, certificates."""

    name = "packages"
    platform = "android"
    sources = (Source.host("packages.json"),)
    records = (AndroidPackage,)

    def parse(self, ctx: ParseContext, device_path: str) -> Iterator[AndroidPackage]:
        with ctx.open(device_path) as handle:
            for n, item in enumerate(json_items(handle, ctx, device_path, exact_numbers=True)):
                if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                    ctx.warn(f"{device_path}: entry {n} has no package name")
                    continue
                paths: list[str] = []
                hashes: dict[str, list[str]] = {k: [] for k in ("sha256", "sha1", "md5", "Sha256", "Sha1", "Md5")}
                subjects: list[str] = []
                orgs: list[str] = []
                names: list[str] = []
                trusted: bool | None = None
                files = item.get("files")
                for f in files if isinstance(files, list) else ():
                    if not isinstance(f, dict):
                        continue
                    _add(paths, f.get("path"))
                    for key in ("sha256", "sha1", "md5"):
                        _add(hashes[key], f.get(key))
                    cert = f.get("certificate")
                    if isinstance(cert, dict):
                        for key in ("Sha256", "Sha1", "Md5"):
                            _add(hashes[key], cert.get(key))
                        subject = text_of(cert.get("Subject"), 1024)
                        if subject:
                            _add(subjects, subject)
                            _add(orgs, subject_field(subject, "O"))
                            _add(names, subject_field(subject, "CN"))
                    if isinstance(f.get("trusted_certificate"), bool):
                        trusted = bool(trusted) or f["trusted_certificate"]
                flags = {k: item.get(k) if isinstance(item.get(k), bool) else None for k in ("system", "third_party", "disabled")}
                yield AndroidPackage(
                    device_path=device_path,
                    locator=f"item={n}",
                    package=item["name"][:512],
                    installer=text_of(item.get("installer"), 512),
                    uid=int_of(item.get("uid")),
                    apk_paths=tuple(paths),
                    apk_sha256=tuple(hashes["sha256"]),
                    apk_sha1=tuple(hashes["sha1"]),
                    apk_md5=tuple(hashes["md5"]),
                    cert_sha256=tuple(hashes["Sha256"]),
                    cert_sha1=tuple(hashes["Sha1"]),
                    cert_md5=tuple(hashes["Md5"]),
                    cert_subjects=tuple(subjects),
                    cert_organizations=tuple(orgs),
                    cert_common_names=tuple(names),
                    trusted_certificate=trusted,
                    system=flags["system"],
                    third_party=flags["third_party"],
                    disabled=flags["disabled"],
                )
