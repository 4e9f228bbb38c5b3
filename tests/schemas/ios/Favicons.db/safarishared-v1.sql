-- artefact:     Safari Favicons.db, schema version 1 (before the width/height and rejected_resources migrations)
-- observed in:  decompiled SafariShared WBSFaviconProviderDatabaseController _createFreshDatabaseSchema (public code index)
-- completeness: SOURCE-DERIVED: the fresh schema only; a device that never ran the migrations has no rejected_resources table

CREATE TABLE page_url (url TEXT NOT NULL ON CONFLICT FAIL UNIQUE ON CONFLICT REPLACE,uuid TEXT NOT NULL ON CONFLICT FAIL);
CREATE INDEX PageURLIndex ON page_url (url);
CREATE TABLE icon_info (uuid TEXT PRIMARY KEY NOT NULL,url TEXT NOT NULL,timestamp INTEGER);
CREATE TABLE database_info (key TEXT PRIMARY KEY NOT NULL,value TEXT NOT NULL);
