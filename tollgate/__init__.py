"""Tollgate: the system of record for a company's AI initiatives."""

from tollgate.celery import app as celery_app

__all__ = ["celery_app"]
