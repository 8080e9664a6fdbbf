"""API tokens move from DRF's plain-text keys to django-rest-knox's digests. Each existing key is carried across as
its SHA-512 digest (what knox compares; its first 15 characters are knox's lookup key), so every script keeps
working with the key it has, and the plain-text rows are then deleted: no key stays readable in the database."""

import hashlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


OLD_TABLE = "authtoken_token"  # rest_framework.authtoken, no longer installed
CARRIED_NAME = "Issued before keys were hashed"


def carry_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("portfolio", "ApiToken")
    table = schema_editor.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {schema_editor.quote_name('key')}, created, user_id FROM {table}")
        rows = cursor.fetchall()
    for key, created, user_id in rows:
        digest = hashlib.sha512(key.encode("utf-8")).hexdigest()
        ApiToken(digest=digest, token_key=key[:15], user_id=user_id, name=CARRIED_NAME, expiry=None).save(
            force_insert=True)
        ApiToken.objects.filter(digest=digest).update(created=created)  # auto_now_add would say "today"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):

    dependencies = [
        ('portfolio', '0019_profile_notification_email'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('digest', models.CharField(max_length=128, primary_key=True, serialize=False)),
                ('token_key', models.CharField(db_index=True, max_length=25)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('expiry', models.DateTimeField(blank=True, null=True)),
                ('name', models.CharField(max_length=100)),
                ('from_password', models.BooleanField(default=False)),
                ('read_only', models.BooleanField(default=False)),
                ('expiry_notice_sent_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='auth_token_set', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'API token',
                'ordering': ['-created'],
            },
        ),
        migrations.RunPython(carry_plain_tokens, migrations.RunPython.noop),
    ]
