-- artefact:     Shortcuts.sqlite, the layout where the shortcut points at its actions (ZSHORTCUT.ZACTIONS)
-- observed in:  third-party test fixtures in the public code index that mirror newer stores
--               (ZSHORTCUT.ZACTIONS, ZSHORTCUTACTIONS without ZSHORTCUT); no device DDL was found
-- completeness: RECONSTRUCTED and TRIMMED, not device text

CREATE TABLE ZSHORTCUT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZACTIONCOUNT INTEGER, ZACTIONS INTEGER, ZCREATIONDATE TIMESTAMP, ZMODIFICATIONDATE TIMESTAMP, ZNAME VARCHAR, ZWORKFLOWID VARCHAR );
CREATE TABLE ZSHORTCUTACTIONS ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDATA BLOB );
