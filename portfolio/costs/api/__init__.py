"""Cost ingestion API: sources, allocation rules and ingestion runs ("run now" is a POST of a run).

Viewers (admin, reviewer, executive) read; administrators write. A source's credential is never in the database: the
API reads and writes only the NAME of the environment variable that holds it, and whether that variable is set.
Creating, changing, deleting or reordering rules goes through portfolio.costs.services.allocation, which
re-allocates the source's existing records and writes the audit row.
"""
