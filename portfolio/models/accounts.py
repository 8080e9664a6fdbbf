"""API tokens: django-rest-knox's hashed tokens, with the name and last use a person manages them by."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """One API token of one person (they may hold several, one per script or tool). Only a SHA-512 digest of the key
    is stored, so neither the database nor an administrator's page can give a key away; `token_key` holds its first
    characters, which knox looks the token up by and which the pages show so a person can tell their tokens apart.
    `expiry` None never expires (tokens issued before keys were hashed)."""

    name: models.CharField[str, str] = models.CharField(max_length=100)
    # Issued at the token endpoint for a password: short-lived, and not counted against API_TOKENS_PER_PERSON.
    from_password: models.BooleanField[bool, bool] = models.BooleanField(default=False)
    # Reads only (GET, HEAD, OPTIONS): for a dashboard or a BI tool that has no business writing.
    read_only: models.BooleanField[bool, bool] = models.BooleanField(default=False)
    # When its person was told it would expire soon (once per token).
    expiry_notice_sent_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True, blank=True)
    # When the token last authenticated a request (written at most once a minute per token).
    last_used_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.shown_key}) of {self.user}"

    @property
    def shown_key(self) -> str:
        """The key's first characters, which identify the token without revealing it."""
        return f"{self.token_key[:8]}…"

    @property
    def may(self) -> str:
        """What the token may do, as the pages say it."""
        return "read" if self.read_only else "read and write"

    @property
    def is_expired(self) -> bool:
        """Past its lifetime: refused already, removed by the daily clean-up."""
        return self.expiry is not None and self.expiry < timezone.now()
