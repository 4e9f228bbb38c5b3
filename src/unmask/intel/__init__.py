"""The intel holder's side of confidential matching (``mvtcm/v1``) and the investigator's client.

- :mod:`.publish`: build an epoch (fresh OPRF key, padded set, catalogue, signed manifest);
- :mod:`.store`: the holder's folder (epochs, rotation state, signing key);
- :mod:`.tokens`: bearer tokens, stored only as hashes, with per-token quotas;
- :mod:`.audit`: the hash-chained, append-only audit log (never request bodies);
- :mod:`.server`: the HTTP service (Starlette on uvicorn);
- :mod:`.guard`: its connection caps and head, body and send deadlines (what uvicorn lacks);
- :mod:`.client`: the investigator's side: download, verify, evaluate, build the matcher.

See docs/confidential-matching.md for what each side learns.
"""
