"""The signal rules: pure functions (no ORM) from plain facts and policy values to candidate signals with their
evidence, one module per family. The service (governance.signals.services) stores, de-duplicates and notifies."""
