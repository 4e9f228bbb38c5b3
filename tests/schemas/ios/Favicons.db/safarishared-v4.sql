-- artefact:     Safari Favicons.db (WBSFaviconProviderDatabaseController)
-- device paths: /private/var/mobile/Library/Image Cache/Favicons/Favicons.db;
--               /private/var/mobile/Containers/Data/Application/<UUID>/Library/Image Cache/Favicons/Favicons.db (MVT SafariFavicon)
-- os:           SafariShared favicon database, schema version 4 (_currentSchemaVersion returns 4)
-- observed in:  decompiled SafariShared WBSFaviconProviderDatabaseController (_createFreshDatabaseSchema,
--               _migrateToSchemaVersion_2/_3/_4) in the public code index; the statements are Apple's text
-- completeness: SOURCE-DERIVED: the fresh schema followed by the three migrations, in the order a device
--               upgraded to version 4 runs them; not a device dump (no real Favicons.db DDL was found)
-- timestamps:   icon_info.timestamp and rejected_resources.timestamp are Mac absolute seconds (MVT converts them so)

CREATE TABLE page_url (url TEXT NOT NULL ON CONFLICT FAIL UNIQUE ON CONFLICT REPLACE,uuid TEXT NOT NULL ON CONFLICT FAIL);
CREATE INDEX PageURLIndex ON page_url (url);
CREATE TABLE icon_info (uuid TEXT PRIMARY KEY NOT NULL,url TEXT NOT NULL,timestamp INTEGER);
CREATE TABLE database_info (key TEXT PRIMARY KEY NOT NULL,value TEXT NOT NULL);
ALTER TABLE icon_info ADD width INTEGER DEFAULT 0;
ALTER TABLE icon_info ADD height INTEGER DEFAULT 0;
ALTER TABLE icon_info ADD has_generated_representations INTEGER DEFAULT 0;
CREATE TABLE rejected_resources (page_url TEXT NOT NULL ON CONFLICT FAIL,icon_url TEXT NOT NULL ON CONFLICT FAIL,timestamp INTEGER,UNIQUE(page_url, icon_url));
