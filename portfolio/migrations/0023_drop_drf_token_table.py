"""DRF's `authtoken_token` table, emptied by 0020 when its keys were carried across as digests, is dropped, with the
record of its migrations, so an upgraded database holds nothing a fresh one does not. A row someone wrote into it
since (a restored backup, say) is carried across first, as 0020 did, never lost."""

import importlib

from django.db import migrations

OLD_TABLE = "authtoken_token"


def drop_old_table(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE in connection.introspection.table_names():
        importlib.import_module("portfolio.migrations.0020_api_tokens_hashed").carry_plain_tokens(apps, schema_editor)
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0022_profile_time_zone"),
    ]

    operations = [
        migrations.RunPython(drop_old_table, migrations.RunPython.noop),
    ]
