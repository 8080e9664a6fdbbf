"""Writes of sprawl detection, one module per job; each write runs in one transaction and writes its audit rows.

- use_cases: the catalogue load, use cases added or edited by administrators, an initiative's confirmed use cases;
- recompute: the detection's findings stored and reconciled with people's decisions;
- clusters: the clusters' review (confirm, dismiss, remove a member);
- pair_decisions: "duplicate of" and "not a duplicate" on a possible-duplicate pair, and their undo;
- runs: recompute runs ("recompute now", imports, nightly).

The detection itself (scoring, embeddings, grouping) is governance.sprawl.analysis over the pure engine.
"""
