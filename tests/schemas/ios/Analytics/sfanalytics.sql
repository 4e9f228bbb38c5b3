-- artefact:     SFAnalytics stores: /private/var/Keychains/Analytics/*.db (ckks_analytics.db, sos_analytics.db,
--               securityd_analytics.db, signin_metrics.db, trust_analytics.db, networking_analytics.db…)
-- os:           the schema string SFAnalytics (Security framework) passes to SFAnalyticsSQLiteStore
-- observed in:  decompiled Security.framework SFAnalytics -database (public code index): "CREATE TABLE IF NOT EXISTS
--               hard_failures (...)" … "DROP TABLE IF EXISTS all_events;"
-- completeness: SOURCE-DERIVED: the tables and ring-buffer triggers of that schema string (IF NOT EXISTS dropped as
--               SQLite stores it); not a device dump
-- timestamps:   timestamp REAL, Mac absolute seconds (MVT's Analytics module converts them so); data BLOB is a plist

CREATE TABLE hard_failures (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, data BLOB
);
CREATE TRIGGER maintain_ring_buffer_hard_failures_v2 AFTER INSERT ON hard_failures
BEGIN
DELETE FROM hard_failures WHERE id <= NEW.id - 1000;
END;
CREATE TABLE soft_failures (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, data BLOB
);
CREATE TRIGGER maintain_ring_buffer_soft_failures_v2 AFTER INSERT ON soft_failures
BEGIN
DELETE FROM soft_failures WHERE id <= NEW.id - 1000;
END;
CREATE TABLE notes (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, data BLOB
);
CREATE TRIGGER maintain_ring_buffer_notes_v2 AFTER INSERT ON notes
BEGIN
DELETE FROM notes WHERE id <= NEW.id - 1000;
END;
CREATE TABLE samples (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, 
name STRING, 
value REAL
);
CREATE TRIGGER maintain_ring_buffer_samples_v2 AFTER INSERT ON samples
BEGIN
DELETE FROM samples WHERE id <= NEW.id - 1000;
END;
CREATE TABLE success_count (
event_type STRING PRIMARY KEY, 
success_count INTEGER, 
hard_failure_count INTEGER, 
soft_failure_count INTEGER
);
CREATE TABLE rockwell (
event_type STRING PRIMARY KEY, 
timestamp REAL, data BLOB
);
CREATE TABLE upload_file (
file STRING PRIMARY KEY, 
store STRING, 
timestamp REAL
);
