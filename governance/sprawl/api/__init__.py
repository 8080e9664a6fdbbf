"""The sprawl API: use cases, clusters, recompute runs, an initiative's use cases and possible duplicates."""
