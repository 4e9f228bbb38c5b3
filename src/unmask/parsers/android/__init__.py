"""Parsers of Android artefacts: AndroidQF files, dumpstate/dumpsys sections, device files of
bugreports and backups, intrusion logs (see :mod:`unmask.acquisition.android_common`)."""
