-- artefact:     SFAnalytics stores of older builds, which also kept an all_events table
-- observed in:  the current schema string drops it ("DROP TABLE IF EXISTS all_events;", decompiled Security.framework
--               SFAnalytics -database), and MVT's Analytics module selects (timestamp, data) from it with a fallback
--               when it is absent (mvt-project/mvt@dac4acb src/mvt/ios/modules/fs/analytics.py)
-- completeness: SOURCE-DERIVED and INFERRED: all_events is given the (id, timestamp, data) shape of its sibling
--               tables; the other tables as in sfanalytics.sql, without the triggers

CREATE TABLE hard_failures (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, data BLOB
);
CREATE TABLE soft_failures (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, data BLOB
);
CREATE TABLE all_events (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, data BLOB
);
CREATE TABLE samples (
id INTEGER PRIMARY KEY AUTOINCREMENT, 
timestamp REAL, 
name STRING, 
value REAL
);
CREATE TABLE success_count (
event_type STRING PRIMARY KEY, 
success_count INTEGER, 
hard_failure_count INTEGER, 
soft_failure_count INTEGER
);
