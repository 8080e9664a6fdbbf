"""Sprawl detection: which initiatives, across teams, do the same job."""
