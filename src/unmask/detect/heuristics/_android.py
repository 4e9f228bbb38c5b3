"""Lists shared by the Android rules (facts from MVT ``mvt/android/utils.py`` and
``artifacts/settings.py``, which cite their sources; no rule lives here)."""

from __future__ import annotations

from unmask.model import Record
from unmask.parsers.android.dumpsys_package import DumpsysPackage
from unmask.parsers.android.packages import AndroidPackage

ROOT_PACKAGES = frozenset({
    "com.noshufou.android.su", "com.noshufou.android.su.elite", "eu.chainfire.supersu",
    "com.koushikdutta.superuser", "com.thirdparty.superuser", "com.yellowes.su", "com.koushikdutta.rommanager",
    "com.koushikdutta.rommanager.license", "com.dimonvideo.luckypatcher", "com.chelpus.lackypatch",
    "com.ramdroid.appquarantine", "com.ramdroid.appquarantinepro", "com.devadvance.rootcloak",
    "com.devadvance.rootcloakplus", "de.robv.android.xposed.installer", "com.saurik.substrate",
    "com.zachspong.temprootremovejb", "com.amphoras.hidemyroot", "com.amphoras.hidemyrootadfree",
    "com.formyhm.hiderootPremium", "com.formyhm.hideroot", "me.phh.superuser", "eu.chainfire.supersu.pro",
    "com.kingouser.com", "com.topjohnwu.magisk",
})
SECURITY_PACKAGES = frozenset({"com.policydm", "com.samsung.android.app.omcagent",
                               "com.samsung.android.securitylogagent", "com.sec.android.soagent"})
UPDATE_PACKAGES = frozenset({"com.android.updater", "com.google.android.gms", "com.huawei.android.hwouc",
                             "com.lge.lgdmsclient", "com.motorola.ccc.ota", "com.oneplus.opbackup", "com.oppo.ota",
                             "com.transsion.systemupdate", "com.wssyncmldm"})
PLAY_STORE = frozenset({"com.android.vending"})
OTHER_STORES = frozenset({"com.sec.android.app.samsungapps", "com.huawei.appmarket", "com.amazon.venezia",
                          "com.xiaomi.market", "com.heytap.market", "com.oppo.market", "com.bbk.appstore"})
THIRD_PARTY_STORES = frozenset({"com.aurora.store", "org.fdroid.fdroid"})
BROWSER_INSTALLERS = frozenset({"com.google.android.packageinstaller", "com.android.packageinstaller"})
# key → (value that is safe, what another value means)
DANGEROUS_SETTINGS = {
    "verifier_verify_adb_installs": ("1", "apps installed over ADB are not verified by Google Play"),
    "package_verifier_enable": ("1", "Google Play Protect is disabled"),
    "package_verifier_state": ("1", "APK package verification is disabled"),
    "package_verifier_user_consent": ("1", "Google Play Protect is disabled"),
    "upload_apk_enable": ("1", "Google Play Protect does not send unknown apps for scanning"),
    "adb_install_need_confirm": ("1", "apps installed over ADB need no confirmation"),
    "send_security_reports": ("1", "security reports are not shared"),
    "samsung_errorlog_agree": ("1", "crash logs are not shared with the manufacturer"),
    "send_action_app_error": ("1", "application error reports are disabled"),
    "accessibility_enabled": ("0", "accessibility services are enabled"),
}


def installed_outside_store(installer: str | None) -> bool:
    """Whether an installer is not an app store (none, ``null`` for ADB, the package installer)."""
    return installer not in PLAY_STORE | OTHER_STORES | THIRD_PARTY_STORES


class PackageViews:
    """What each source says of each package (packages.json and ``dumpsys package`` describe the
    same apps): a rule about packages collects them here and reports each package once, naming
    every source, instead of once per source. Bounded by the number of installed packages."""

    def __init__(self, limit: int = 20_000) -> None:
        self.views: dict[str, list[AndroidPackage | DumpsysPackage]] = {}
        self.limit = limit

    def add(self, record: AndroidPackage | DumpsysPackage, package: str) -> None:
        """Keep one source's record of a package (at most one per record kind)."""
        views = self.views.get(package)
        if views is None:
            if len(self.views) >= self.limit:
                return
            views = self.views[package] = []
        if all(v.kind != record.kind for v in views):
            views.append(record)

    def system(self, package: str) -> bool:
        """Whether any source says the package is part of the system image."""
        return any(bool(v.system) for v in self.views.get(package, ()))

    def installers(self, package: str) -> list[str | None]:
        """The installer each source records (``None`` or ``"null"``: none)."""
        return [v.installer for v in self.views.get(package, ())]

    def best(self, package: str) -> Record:
        """The record a finding is about: ``dumpsys package``'s when there is one (it carries the
        install times), else the first source's."""
        views = self.views[package]
        return next((v for v in views if v.timestamp is not None), views[0])

    def where(self, package: str) -> str:
        """The sources, for a finding's message: ``packages.json item=3; dumpsys:package line=120``."""
        return "; ".join(f"{v.device_path} {v.locator}".strip() for v in self.views.get(package, ()))
