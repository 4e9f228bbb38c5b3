"""The case store: every scan of a case indexed, keyed with a secret, re-hunted as one join.

- :mod:`unmask.store.secret`: the store secret and the keys derived from it (HMAC, sealing);
- :mod:`unmask.store.schema` and ``migrations/``: the tables, upgraded in place by Alembic;
- :mod:`unmask.store.db`: opening (SQLite by default, PostgreSQL when shared), reading, writing;
- :mod:`unmask.store.keys`: observables and indicators as lookup keys (the confidential matcher's);
- :mod:`unmask.store.recorder`: the scan's second sink, recording a case as it is scanned;
- :mod:`unmask.store.rehunt`: every stored case against new indicators;
- :mod:`unmask.store.export`: a case as JSON and as STIX 2.1 sightings.
"""
