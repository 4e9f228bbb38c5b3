"""Lists shared by the Android rules (facts from MVT ``mvt/android/utils.py`` and
``artifacts/settings.py``, which cite their sources; no rule lives here)."""

from __future__ import annotations

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
