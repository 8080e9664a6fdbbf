"""The cost domain of the portfolio app: sources, ingestion runs, allocation, currency rates and roll-ups.

A sub-package, not a Django app: its models keep the ``portfolio`` label, so migrations and permissions stay put."""
