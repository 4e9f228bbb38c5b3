"""Stalkerware triage: which surveillance capabilities one app combines, and how it hides.

A capability score per non-system app: accessibility service (reads the screen and every typed
word), notification listener (reads messages as they arrive), device administrator (resists
removal), SMS, call log, location (background), microphone, a receiver started at boot; and
concealment: no launcher icon, installed outside a store, installed recently. The grade needs
both: a parental-control or accessibility app from a store with a visible icon holding the same
rights comes out lower than a hidden, sideloaded app holding them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from unmask.detect.heuristics._android import installed_outside_store
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android.dumpsys_accessibility import AccessibilityService
from unmask.parsers.android.dumpsys_device_policy import DeviceAdmin
from unmask.parsers.android.dumpsys_intents import IntentFilter
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage
from unmask.parsers.android.settings import AndroidSetting

# capability → (weight, why it matters)
CAPABILITIES = {
    "accessibility service": (3, "reads the screen and every word typed"),
    "notification listener": (3, "reads messages and notifications as they arrive"),
    "device administrator": (2, "resists uninstallation and can lock or wipe the phone"),
    "SMS access": (2, "reads text messages (and 2FA codes)"),
    "call log access": (1, "sees who is called"),
    "location": (1, "tracks where the phone is"),
    "background location": (1, "tracks it when the app is not in use"),
    "microphone": (1, "can record around the phone"),
    "starts at boot": (1, "runs again after every restart"),
}
CONCEALMENT = {
    "hidden launcher icon": 3,
    "installed outside a store": 2,
    "installed in the 30 days before the acquisition": 1,
}
_PERMS = {
    "SMS access": ("android.permission.READ_SMS", "android.permission.RECEIVE_SMS"),
    "call log access": ("android.permission.READ_CALL_LOG", "android.permission.PROCESS_OUTGOING_CALLS"),
    "location": ("android.permission.ACCESS_FINE_LOCATION", "android.permission.ACCESS_COARSE_LOCATION"),
    "background location": ("android.permission.ACCESS_BACKGROUND_LOCATION",),
    "microphone": ("android.permission.RECORD_AUDIO",),
    "starts at boot": ("android.permission.RECEIVE_BOOT_COMPLETED",),
}


@dataclass
class _App:
    record: Record | None = None
    system: bool = False
    installer: str | None = None
    installer_known: bool = False
    first_install: object = None
    caps: set[str] = field(default_factory=set)
    main: list[str] = field(default_factory=list)
    disabled: set[str] = field(default_factory=set)


class AndroidStalkerwareCapabilities(Heuristic):
    """A graded finding per non-system app that combines surveillance capabilities."""

    id = "android-stalkerware-capabilities"
    title = "App combines surveillance capabilities"
    severity = Severity.HIGH
    consumes = (DumpsysPackage, AndroidPackage, AccessibilityService, DeviceAdmin, IntentFilter, AndroidSetting)
    reference = ("spytrap-adb permission grading (accessibility, notification listener, device admin, SMS, "
                 "location); Echap stalkerware research; Coalition Against Stalkerware detection criteria")
    explanation = ("Stalkerware needs several rights at once to read messages, follow the phone and survive "
                   "restarts, and it hides: no icon, installed by hand. An app that combines those rights and "
                   "hides deserves a careful look with the person, whatever its name.")
    benign = ("Parental-control, accessibility and anti-theft apps hold the same rights openly; a store install "
              "and a visible icon lower the grade, and the person may know the app.")

    def __init__(self) -> None:
        self.apps: dict[str, _App] = {}
        self.resolver_seen = False

    def _app(self, package: str) -> _App:
        app = self.apps.get(package)
        if app is None:
            app = self.apps[package] = _App()
        return app

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, DumpsysPackage):
                app = self._app(r.package)
                app.record, app.system = r, app.system or r.system
                app.installer, app.installer_known = r.installer, True
                app.first_install = r.first_install
                granted = set(r.granted)
                for cap, perms in _PERMS.items():
                    if granted & set(perms):
                        app.caps.add(cap)
                app.disabled.update(r.disabled_components)
            elif isinstance(r, AndroidPackage):
                app = self._app(r.package)
                app.record = app.record or r
                app.system = app.system or bool(r.system)
                if not app.installer_known:
                    app.installer, app.installer_known = r.installer, True
            elif isinstance(r, AccessibilityService) and r.state in ("enabled", "bound"):
                self._app(r.package).caps.add("accessibility service")
            elif isinstance(r, DeviceAdmin):
                self._app(r.package).caps.add("device administrator")
            elif isinstance(r, IntentFilter):
                if r.table == "activity" and r.action == "android.intent.action.MAIN":
                    self.resolver_seen = True
                    self._app(r.package).main.append(r.component)
                elif r.table == "receiver" and r.action == "android.intent.action.BOOT_COMPLETED":
                    self._app(r.package).caps.add("starts at boot")
            elif isinstance(r, AndroidSetting) and r.apps:
                named: str | None = {"enabled_accessibility_services": "accessibility service",
                                     "enabled_notification_listeners": "notification listener"}.get(r.name)
                if named:
                    for package in r.apps:
                        self._app(package).caps.add(named)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        reference = ctx.first_time("completed", "dumpstate_time")
        out: list[Finding] = []
        for package, app in sorted(self.apps.items()):
            if app.system or app.record is None:
                continue
            surveillance = sorted(app.caps, key=lambda c: -CAPABILITIES[c][0])
            if len([c for c in surveillance if c != "starts at boot"]) < 2:
                continue
            hiding: list[str] = []
            if self.resolver_seen and (not app.main or all(c in app.disabled or c.split("/", 1)[1] in app.disabled
                                                           for c in app.main)):
                hiding.append("hidden launcher icon")
            if app.installer_known and installed_outside_store(app.installer):
                hiding.append("installed outside a store")
            first = app.first_install
            if reference is not None and first is not None and hasattr(first, "year") and 0 <= (reference - first).days <= 30:  # type: ignore[operator]
                hiding.append("installed in the 30 days before the acquisition")
            score = sum(CAPABILITIES[c][0] for c in surveillance) + sum(CONCEALMENT[h] for h in hiding)
            strong = "hidden launcher icon" in hiding or "installed outside a store" in hiding
            if score >= 12 and strong:
                severity = Severity.HIGH
            elif score >= 8 and hiding:
                severity = Severity.MEDIUM
            elif score >= 4:
                severity = Severity.LOW
            else:
                continue
            caps = ", ".join(f"{c} ({CAPABILITIES[c][1]})" for c in surveillance)
            hide = "; and it " + ", ".join(hiding) if hiding else "; it is installed from a store with a visible icon"
            out.append(self.finding(app.record, f"{package} combines {caps}{hide} (capability score {score})",
                                    severity=severity))
        return out
