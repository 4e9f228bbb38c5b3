"""Echap's certificate organisations, certificate-name patterns and package-name patterns as STIX 2.

``python -m tools.echap_stix IOC_YAML [--watchware WATCHWARE_YAML] [--commit SHA] [--date ISO]
[--out FILE]`` writes the bundle unmask ships as
``src/unmask/data/iocs/echap__stalkerware-patterns.stix2``.

Echap (AssoEchap/stalkerware-indicators, CC BY 4.0) keeps its indicators in ``ioc.yaml``; the
repository's own generator (``generated/stalkerware.stix2``, bundled unchanged by unmask as
``echap__stalkerware.stix2``) exports only app ids, certificate SHA-1s, domains, sample hashes and
URLs. Three kinds of ``ioc.yaml`` facts are left out of it, and this script exports them:

- ``certificate_organizations``: the organisation (``O=``) of the signing certificate, which a
  vendor keeps when it re-signs a renamed build → ``[app:cert.organization = '…']``;
- ``certificate_cname_re``: Echap's regular expressions on the certificate common name
  (``CN=``) → ``[app:cert.common_name MATCHES '…']``;
- package-name patterns: Echap lists every build of an app whose package name carries its build
  date (iKeyMonitor's ``com.android.internet.a20200817``, ``…a20210916``; the pattern described
  in Echap PR #29, "the package name is changing from version to version, looking like
  com.android.internet.NNNNN with NNNNN being the date of the build"). Where ``ioc.yaml`` lists at
  least two package names of one app that differ only by a final run of four or more digits, the
  family becomes ``[app:id MATCHES '^prefix[0-9]{n}$']``, so that the next build is found too. A
  pattern that would match a package name listed for any other app (stalkerware or watchware) is
  dropped, and so is one whose fixed prefix has fewer than three labels.

Each indicator indicates a ``malware`` object named like Echap's (the collection unmask reports),
and its description says which ``ioc.yaml`` field and values it comes from. Identifiers are UUID 5
of the content and times are the source commit's, so the same ``ioc.yaml`` always gives the same
file, byte for byte. The script reads YAML with PyYAML's safe loader and writes JSON; it needs no
network (fetch Echap's repository yourself, e.g. ``git show a04c5c1958bf:ioc.yaml``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = uuid.UUID("5f0c1e55-6d1a-4b8e-9c41-3a7e0b2d9f10")  # unmask's, for UUID 5 of Echap-derived objects
SOURCE = "https://github.com/AssoEchap/stalkerware-indicators"
_FAMILY = re.compile(r"(.*?[^0-9])([0-9]{4,})")
MIN_LABELS = 3


def _apps(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise SystemExit(f"{path}: not an Echap indicator list")
    return [a for a in data if isinstance(a, dict) and isinstance(a.get("name"), str)]


def _strings(value: Any) -> list[str]:
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def package_patterns(packages: list[str]) -> list[tuple[str, list[str]]]:
    """The date- or build-numbered families among one app's package names: ``(regex, members)``."""
    families: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for name in packages:
        match = _FAMILY.fullmatch(name)
        if match:
            families[match.group(1)].append((name, len(match.group(2))))
    out: list[tuple[str, list[str]]] = []
    for prefix, members in sorted(families.items()):
        if len(members) < 2 or prefix.count(".") + 1 < MIN_LABELS:
            continue
        lengths = sorted({n for _, n in members})
        digits = f"{{{lengths[0]}}}" if len(lengths) == 1 else f"{{{lengths[0]},{lengths[-1]}}}"
        out.append((f"^{re.escape(prefix)}[0-9]{digits}$", sorted(m for m, _ in members)))
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def build(ioc: Path, watchware: Path | None, commit: str, date: str) -> dict[str, Any]:
    """The STIX 2.1 bundle of the facts described in the module docstring."""
    apps = _apps(ioc)
    others = apps + (_apps(watchware) if watchware else [])
    objects: list[dict[str, Any]] = []
    where = f"{SOURCE}/blob/{commit}/ioc.yaml"

    def ident(kind: str, *parts: str) -> str:
        return f"{kind}--{uuid.uuid5(NAMESPACE, chr(31).join((kind, *parts)))}"

    for app in apps:
        name = app["name"].strip()
        found: list[tuple[str, str]] = []  # (pattern, description)
        for org in _strings(app.get("certificate_organizations")):
            found.append((f"[app:cert.organization = '{_escape(org)}']",
                          f"ioc.yaml certificate_organizations of {name}: {org}"))
        for regex in _strings(app.get("certificate_cname_re")):
            found.append((f"[app:cert.common_name MATCHES '{_escape(regex)}']",
                          f"ioc.yaml certificate_cname_re of {name}: {regex}"))
        listed = _strings(app.get("packages"))
        foreign = [p for other in others if other is not app for p in _strings(other.get("packages"))]
        for regex, members in package_patterns(listed):
            compiled = re.compile(regex)
            if any(compiled.match(p) for p in foreign):
                print(f"skipped {regex} ({name}): it matches a package of another app", file=sys.stderr)
                continue
            found.append((f"[app:id MATCHES '{_escape(regex)}']",
                          f"ioc.yaml packages of {name} that differ only by a build number: {', '.join(members)}"))
        if not found:
            continue
        malware = ident("malware", name)
        objects.append({"type": "malware", "spec_version": "2.1", "id": malware, "created": date, "modified": date,
                        "name": name, "description": f"{app.get('type', 'stalkerware').capitalize()} application",
                        "is_family": False})
        for pattern, description in found:
            indicator = ident("indicator", name, pattern)
            objects.append({"type": "indicator", "spec_version": "2.1", "id": indicator, "created": date,
                            "modified": date, "indicator_types": ["malicious-activity"], "pattern": pattern,
                            "pattern_type": "stix", "pattern_version": "2.1", "valid_from": date,
                            "description": description,
                            "external_references": [{"source_name": "Echap stalkerware-indicators", "url": where}]})
            objects.append({"type": "relationship", "spec_version": "2.1", "id": ident("relationship", indicator),
                            "created": date, "modified": date, "relationship_type": "indicates",
                            "source_ref": indicator, "target_ref": malware})
    return {"type": "bundle", "id": ident("bundle", commit), "objects": objects}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ioc", type=Path, help="Echap's ioc.yaml")
    parser.add_argument("--watchware", type=Path, help="Echap's watchware.yaml (patterns must not match its packages)")
    parser.add_argument("--commit", default="a04c5c1958bff93fec3b1b56edbb412b209f2a38", help="the source commit")
    parser.add_argument("--date", default="2026-06-21T20:40:25.000Z", help="the source commit's time (STIX created)")
    parser.add_argument("--out", type=Path, help="output file (default: standard output)")
    args = parser.parse_args(argv)
    text = json.dumps(build(args.ioc, args.watchware, args.commit, args.date), indent=1, ensure_ascii=False) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
