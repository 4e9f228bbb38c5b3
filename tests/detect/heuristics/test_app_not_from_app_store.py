"""app-not-from-app-store: an installer other than the App Store or an MDM, or metadata without a bundle id."""

from __future__ import annotations

from unmask.detect.heuristics.app_not_from_app_store import AppNotFromAppStore
from unmask.detect.heuristics.base import HeuristicContext
from unmask.model import Severity
from unmask.parsers.ios.applications import InstalledApp


def _app(source: str | None, bundle: str | None = "com.x.y", has_id: bool = True) -> InstalledApp:
    return InstalledApp(device_path="/private/var/containers/Bundle/Application/U/iTunesMetadata.plist",
                        bundle_id=bundle, name="X", source_app=source, has_metadata_id=has_id)


def test_a_sideloaded_app_is_flagged() -> None:
    findings = list(AppNotFromAppStore().check([_app("com.example.installer")], HeuristicContext()))
    assert len(findings) == 1 and findings[0].severity is Severity.MEDIUM
    assert "com.example.installer" in findings[0].message and findings[0].benign


def test_metadata_without_a_bundle_id_is_flagged() -> None:
    findings = list(AppNotFromAppStore().check([_app("com.apple.AppStore", None, False)], HeuristicContext()))
    assert len(findings) == 1 and "without a bundle id" in findings[0].message


def test_store_mdm_and_unknown_installers_are_not_flagged() -> None:
    apps = [_app("com.apple.AppStore"), _app("com.apple.AppStore.ProductPageExtension"), _app("com.apple.dmd"),
            _app("dmd"), _app(None)]
    assert list(AppNotFromAppStore().check(apps, HeuristicContext())) == []
