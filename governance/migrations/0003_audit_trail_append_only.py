"""Database triggers that refuse UPDATE and DELETE on the audit trail (see governance.audit_guard)."""

from django.db import migrations

from governance.audit_guard import TABLE, install_sql, remove_sql


def install(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, TABLE)]
    for statement in install_sql(connection.vendor, columns):
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    for statement in remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0002_default_rubric"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(install, remove)]
