"""Signals: what to stop, fix or scale, computed from costs, value reports, seats and tokens (issue 11)."""
