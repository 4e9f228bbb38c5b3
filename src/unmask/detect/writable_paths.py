"""Where an iPhone's executables can legitimately live, and the writable folders they never do.

Shared by the rules on shutdown.log clients, running processes and crash reports. Facts only:

- Apple's own executables live on the read-only system volume (``/System``, ``/usr``, ``/sbin``,
  ``/bin``, ``/Applications``), in the Cryptexes of Rapid Security Responses
  (``/private/preboot/Cryptexes/``), on a mounted developer disk image (``/Developer``), or are
  the kernel (``/kernel`` in shutdown.log);
- App Store apps run from ``/private/var/containers/Bundle/Application/<UUID>/…`` and updatable
  system apps from ``/private/var/staged_system_apps/`` (the other writable-volume homes of code);
- Kaspersky found Pegasus, Reign (QuaDream) and Predator processes running from
  ``/private/var/db/`` and ``/private/var/tmp/`` (Securelist, Jan 2024; iShutdown; iLEAPP's
  sysShutdown notes), and the public indicator sets name implants there
  (``/private/var/db/com.apple.xpc.roleaccountd.staging/…``, ``/private/var/tmp/…``;
  research/peers.md H21, H26).

The allow-list of Apple code under ``/private/var/db/`` and ``/private/var/tmp/``: none of the
public shutdown.log captures examined (the iShutdown README output, the iOS 26.5 capture a public
Rust parser mirrors, MVT PR #196, the logs iLEAPP's artifact notes describe) shows an Apple daemon
running there. The only documented legitimate use is XPC services *staged* by an out-of-band
update in ``/private/var/db/com.apple.xpc.roleaccountd.staging/<service>.xpc/…`` (an osquery
detection pack for macOS exempts exactly ``…roleaccountd.staging/%.xpc/Contents/MacOS``); the
Pegasus 2022 trace iVerify published sits in the same folder but *outside* any ``.xpc`` bundle
(``…staging/com.apple.WebKit.Networking``), so only executables inside a ``com.apple.*.xpc``
bundle of that folder are allowed.
"""

from __future__ import annotations

import re

from unmask.observables import normalize_path

SYSTEM_PREFIXES = (
    "/System/", "/usr/", "/sbin/", "/bin/", "/Applications/", "/private/preboot/Cryptexes/", "/Developer/",
    "/kernel", "/Library/",
)
"""Read-only system locations (and the kernel's pseudo-path) of Apple's executables."""
APP_PREFIXES = ("/private/var/containers/Bundle/Application/", "/private/var/staged_system_apps/")
"""Where installed apps' executables live on the writable volume."""
IMPLANT_FOLDERS = ("/private/var/db/", "/private/var/tmp/")
"""The writable folders Kaspersky found Pegasus, Reign and Predator running from."""
WRITABLE_PREFIXES = ("/private/var/", "/private/tmp/")
"""The writable data volume: no executable belongs there outside :data:`APP_PREFIXES`."""

ALLOWED_UNDER_IMPLANT_FOLDERS = (
    re.compile(r"/private/var/db/com\.apple\.xpc\.roleaccountd\.staging/com\.apple\.[A-Za-z0-9.-]+\.xpc/"),
)
"""Apple code documented under the implant folders (see the module docstring)."""


def norm(path: str | None) -> str | None:
    """A device path in unmask's one form (``/private/var/…``)."""
    return normalize_path(path) if path else None


def in_implant_folder(path: str | None) -> bool:
    """Whether ``path`` lies under ``/private/var/db/`` or ``/private/var/tmp/`` and is not on the
    allow-list."""
    p = norm(path)
    if not p or not p.startswith(IMPLANT_FOLDERS):
        return False
    return not any(rule.match(p) for rule in ALLOWED_UNDER_IMPLANT_FOLDERS)


def is_system_path(path: str | None) -> bool:
    """Whether ``path`` is on the read-only system volume (or is the kernel)."""
    p = norm(path)
    return bool(p) and p is not None and (p.startswith(SYSTEM_PREFIXES) or p == "/kernel")


def in_writable_data(path: str | None) -> bool:
    """Whether ``path`` is an executable on the writable data volume outside the app folders and
    the allow-list: a place no iPhone runs code from."""
    p = norm(path)
    if not p or not p.startswith(WRITABLE_PREFIXES) or p.startswith(APP_PREFIXES):
        return False
    return not any(rule.match(p) for rule in ALLOWED_UNDER_IMPLANT_FOLDERS)
