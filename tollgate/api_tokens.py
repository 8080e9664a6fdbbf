"""How an API token authenticates a request: django-rest-knox's hashed tokens (portfolio.ApiToken), kept in a module
of their own because DRF imports the authentication classes while it is still being imported itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework import exceptions, permissions

LAST_USED_EVERY = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token check, with four changes: a read-only token is refused anything but reading, on every view
    whatever its permission classes (but handing itself back: views with `read_only_tokens_allowed`); a key that is
    not UTF-8 is refused like any wrong key; an expired token is refused but kept (the daily clean-up removes it
    through its service, so its end is in the audit trail, not deleted silently on a request); and each token
    remembers when it was last used (at most one write a minute), so people can tell which tokens still serve."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if (result is not None and result[1].read_only and request.method not in permissions.SAFE_METHODS
                and not getattr(view, "read_only_tokens_allowed", False)):
            raise exceptions.PermissionDenied(
                f"This API token ({result[1].name}) is read-only: it may only read (GET, HEAD, OPTIONS).")
        return result

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:  # knox would answer 500 to a header that is not UTF-8
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token: Any) -> bool:
        return auth_token.expiry is not None and auth_token.expiry < timezone.now()

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)  # bookkeeping, like last_login
            token.last_used_at = now
        return user, token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for the token header, as it was with DRF's own tokens (clients generated from it keep
    working)."""

    target_class = "tollgate.api_tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'Token-based authentication with required prefix "Token"'}
