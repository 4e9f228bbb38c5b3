-- artefact:     Chrome Favicons (iOS: /private/var/mobile/Containers/Data/Application/<UUID>/Library/Application Support/
--               Google/Chrome/Default/Favicons; backup AppDomain-com.google.chrome.ios → fileID 55680ab883d0fdcffd94f959b1632e5fbbb18c5b per MVT)
-- os:           Chromium favicon database, meta version 8
-- observed in:  Chromium components/favicon/core/favicon_database.cc (InitTables/InitIndices) in the public code index;
--               page_url_type (icon_mapping) from later Chromium schemas, present in current profiles
-- completeness: SOURCE-DERIVED (Chromium's CREATE statements, IF NOT EXISTS dropped as SQLite stores them); not a device dump
-- timestamps:   favicon_bitmaps.last_updated / last_requested: microseconds since 1601-01-01

CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE icon_mapping(id INTEGER PRIMARY KEY,page_url LONGVARCHAR NOT NULL,icon_id INTEGER,page_url_type INTEGER DEFAULT 0);
CREATE TABLE favicons(id INTEGER PRIMARY KEY,url LONGVARCHAR NOT NULL,icon_type INTEGER DEFAULT 1);
CREATE TABLE favicon_bitmaps(id INTEGER PRIMARY KEY,icon_id INTEGER NOT NULL,last_updated INTEGER DEFAULT 0,image_data BLOB,width INTEGER DEFAULT 0,height INTEGER DEFAULT 0,last_requested INTEGER DEFAULT 0);
CREATE INDEX icon_mapping_page_url_idx ON icon_mapping(page_url);
CREATE INDEX icon_mapping_icon_id_idx ON icon_mapping(icon_id);
CREATE INDEX favicons_url ON favicons(url);
CREATE INDEX favicon_bitmaps_icon_id ON favicon_bitmaps(icon_id);
