"""The audit trail is append-only: a PostgreSQL trigger refuses UPDATE and DELETE on auditlog_logentry.

The one update let through sets `actor_id` to NULL and nothing else: deleting a user does that (SET_NULL),
and the entry keeps `actor_email`. Installed by migration governance.0003 on PostgreSQL, the production database.
Flushing a whole database (test teardown, `manage.py flush`) uses TRUNCATE, which row triggers do not see.
The embedded SQLite default relies on the application alone (no page, API or admin action edits the trail):
a SQLite trigger could not tell Django's own flush, which deletes rows, from tampering.
"""

from __future__ import annotations

TABLE = "auditlog_logentry"
MESSAGE = "The audit trail is append-only: entries cannot be changed or deleted."


def install_sql(vendor: str, columns: list[str]) -> list[str]:
    """Statements creating the trigger (none outside PostgreSQL)."""
    if vendor == "postgresql":
        return [
            f"""
            CREATE OR REPLACE FUNCTION tollgate_audit_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
                   AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql;
            """,
            f"""
            CREATE TRIGGER tollgate_audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION tollgate_audit_append_only();
            """,
        ]
    return []


def remove_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS tollgate_audit_append_only ON {TABLE};",
            "DROP FUNCTION IF EXISTS tollgate_audit_append_only();",
        ]
    return []
