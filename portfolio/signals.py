"""Signals portfolio sends so the apps built on it (governance) can react without portfolio importing them."""

from django.dispatch import Signal

# Sent inside the import run, after its rows were written (not for a dry run, nor when nothing changed); receivers
# that start background work enqueue it on commit. Arguments: `run` (the ImportRun).
inventory_changed = Signal()

# Sent inside an ingestion run's transaction once its records and the month's roll-ups are written and the run is
# marked succeeded; receivers that start background work enqueue it on commit. Arguments: `run` (the IngestionRun).
costs_ingested = Signal()

# Sent when who owns running or planned initiatives changed for someone: their initiatives were handed over, or their
# account was deactivated or reactivated while they owned some (the "no active owner" signal reads both); receivers
# that start background work enqueue it on commit. Arguments: `user` (the person whose initiatives they are or were).
owners_changed = Signal()

# Sent inside a hand-over's transaction once the initiatives changed owner, so the people concerned are told
# (governance notifies them on commit). Arguments: `actor` (who handed over, or None for the system), `from_user`,
# `to_user` and `initiatives` (those that moved).
initiatives_handed_over = Signal()
