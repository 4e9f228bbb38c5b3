"""An accessibility service of an app that is not part of the system: what it is allowed to see,
and whether it is turned on. Reported once per service, whichever sources name it (``dumpsys
accessibility`` in its two forms, the ``enabled_accessibility_services`` secure setting)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unmask.detect.heuristics._android import PackageViews
from unmask.detect.heuristics.base import Heuristic, HeuristicContext
from unmask.model import Finding, Record, Severity
from unmask.parsers.android._common import package_of
from unmask.parsers.android.dumpsys_accessibility import AccessibilityService
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage
from unmask.parsers.android.settings import AndroidSetting

_LIMIT = 5_000


class AndroidAccessibilityService(Heuristic):
    """Accessibility services of non-system apps: enabled or running (medium), installed only (low)."""

    id = "android-accessibility-service"
    title = "App can read the screen (accessibility service)"
    severity = Severity.MEDIUM
    consumes = (AccessibilityService, AndroidSetting, AndroidPackage, DumpsysPackage)
    reference = ("MVT DumpsysAccessibility (every installed service: medium, low when disabled and unbound); "
                 "Android accessibility services read every screen and typed word")
    explanation = ("An accessibility service sees everything on the screen and every word typed, and can act "
                   "for the user; stalkerware asks for it to read messages from any app.")
    benign = ("Screen readers, password managers, automation and launcher apps use it openly; the person usually "
              "knows they turned it on.")

    def __init__(self) -> None:
        self.services: dict[str, dict[str, Record]] = {}  # component → state → first record saying it
        self.packages = PackageViews()

    def _note(self, component: str, state: str, record: Record) -> None:
        package, _, cls = component.partition("/")
        if cls.startswith("."):  # com.x/.Svc and com.x/com.x.Svc are one service
            component = f"{package}/{package}{cls}"
        states = self.services.get(component)
        if states is None:
            if len(self.services) >= _LIMIT:
                return
            states = self.services[component] = {}
        states.setdefault(state, record)

    def feed(self, records: Sequence[Record]) -> Iterable[Finding]:
        for r in records:
            if isinstance(r, AccessibilityService):
                self._note(r.component, r.state, r)
            elif isinstance(r, AndroidSetting):
                if r.name == "enabled_accessibility_services":
                    for component in r.value.split(":"):
                        if package_of(component) and "/" in component:
                            self._note(component.strip(), "enabled in settings", r)
            elif isinstance(r, AndroidPackage | DumpsysPackage):
                self.packages.add(r, r.package)
        return ()

    def finish(self, ctx: HeuristicContext) -> Iterable[Finding]:
        out: list[Finding] = []
        for component, states in sorted(self.services.items()):
            package = package_of(component) or component
            if self.packages.system(package):
                continue
            active = [s for s in ("bound", "enabled", "enabled in settings", "binding") if s in states]
            record = states[active[0]] if active else next(iter(states.values()))
            if active:
                message = f"accessibility service {component} is {', '.join(active)}"
            else:
                message = f"accessibility service {component} is installed but not turned on"
            sources = "; ".join(dict.fromkeys(f"{r.device_path} {r.locator}".strip() for r in states.values()))
            out.append(self.finding(record, f"{message} ({sources})", severity=None if active else Severity.LOW))
        return out
