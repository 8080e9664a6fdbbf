"""Cost-domain services, one module per job; each write runs in one transaction and writes its audit row."""
