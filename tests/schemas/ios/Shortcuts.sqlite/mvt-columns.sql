-- artefact:     Shortcuts.sqlite (/private/var/mobile/Library/Shortcuts/Shortcuts.sqlite; HomeDomain Library/Shortcuts/Shortcuts.sqlite)
-- os:           Shortcuts/Workflow Core Data store where ZSHORTCUTACTIONS points at its shortcut (ZSHORTCUT column)
-- observed in:  no real DDL was found (shared schemas README: "no real DDL found"); columns from MVT's Shortcuts query
--               (mvt-project/mvt@dac4acb src/mvt/ios/modules/mixed/shortcuts.py: ZSHORTCUT.Z_PK, ZNAME, ZCREATIONDATE,
--               ZMODIFICATIONDATE, ZACTIONSDESCRIPTION; ZSHORTCUTACTIONS.ZSHORTCUT, ZDATA) and iLEAPP's shortcuts artifact
--               (ZACTIONCOUNT, ZWORKFLOWID), with the Core Data bookkeeping columns every store has
-- completeness: RECONSTRUCTED and TRIMMED, not device text. ZDATA is a binary plist: an array of
--               {WFWorkflowActionIdentifier, WFWorkflowActionParameters}

CREATE TABLE ZSHORTCUT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZACTIONCOUNT INTEGER, ZCREATIONDATE TIMESTAMP, ZMODIFICATIONDATE TIMESTAMP, ZACTIONSDESCRIPTION VARCHAR, ZNAME VARCHAR, ZWORKFLOWID VARCHAR );
CREATE TABLE ZSHORTCUTACTIONS ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZSHORTCUT INTEGER, ZDATA BLOB );
CREATE INDEX ZSHORTCUTACTIONS_ZSHORTCUT_INDEX ON ZSHORTCUTACTIONS (ZSHORTCUT);
