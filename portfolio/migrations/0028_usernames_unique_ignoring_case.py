from django.conf import settings
from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "auth_user_username_unique_ignoring_case"


def refuse_case_duplicates(apps, schema_editor):
    """Stop, naming every group, when accounts already differ only in the letter case of their username: which one
    the person keeps (their roles, initiatives, history) is an administrator's decision, not a migration's."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    keys = (user_model.objects.annotate(key=Lower("username")).values("key").annotate(n=Count("pk"))
            .filter(n__gt=1).values_list("key", flat=True))
    groups = [", ".join(f"“{user.username}” (id {user.pk})"
                        for user in user_model.objects.filter(username__iexact=key).order_by("pk")) for key in keys]
    if groups:
        raise RuntimeError(
            "These accounts' usernames differ only in letter case, and Tollgate now signs people in whatever the case "
            "they type:\n  " + "\n  ".join(groups)
            + "\nRename one of each group (or deactivate and rename it) in the Django admin with the previous version, "
              "then run migrate again. Nothing was changed.")


def create_index(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table)
    schema_editor.execute(f"CREATE UNIQUE INDEX {INDEX} ON {table} (LOWER(username))")


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    """Usernames (e-mail addresses) unique whatever their letter case, in the database, as the login now finds them:
    Django's own unique index is case-sensitive, and the Django admin's change form or a script could otherwise make
    "Dana@example.com" beside "dana@example.com"."""

    dependencies = [
        ("portfolio", "0027_reference_names_unique_ignoring_case"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(refuse_case_duplicates, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
