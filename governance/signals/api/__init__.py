"""The signals API under /api/governance/ (signals, signal-runs)."""
