"""Which initiative an audit-trail entry is about, beside auditlog's own row (which the trail never changes)."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db import models


class AuditEntryInitiative(models.Model):
    """The initiative an entry about one of its records (business case, KPI, licence pool, value report, KPI actual,
    attachment, verdict) was written for, stored when the entry is: the initiative filter finds the entry after the
    record itself is deleted, which matching the ids of the records that exist now could not.

    No database constraint on the initiative: an entry keeps saying which initiative it was about whatever happens
    to it."""

    entry = models.OneToOneField(LogEntry, on_delete=models.CASCADE, primary_key=True, related_name="initiative_link")
    initiative = models.ForeignKey("portfolio.Initiative", on_delete=models.DO_NOTHING, db_constraint=False,
                                   related_name="+")

    class Meta:
        verbose_name = "audit entry's initiative"

    def __str__(self) -> str:
        return f"entry {self.entry_id} · initiative {self.initiative_id}"
