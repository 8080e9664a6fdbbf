"""Integration accounts become explicit (Profile.integration_account). Until now an account was one when nobody
signed in to it: no usable password, never a sign-in, never an invitation. That also described a real person an
import added who had not been invited yet, so an administrator could issue a key in their name. The accounts marked
here are those of the old rule that already hold a named API token: one such account cannot have issued itself (it
never signed in and has no password), so an administrator did, and the script using it keeps working. Every other
account is a person. Each marking is an audit row on the account ("Marked as an integration account", source
"migration"). Reversed, the field goes away with the previous migration: nothing to undo here."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

UNUSABLE_PASSWORD_PREFIX = "!"  # django.contrib.auth.hashers, frozen here
REASON = ("Marked when integration accounts became explicit: it had no password, had never signed in or been invited, "
          "and held an API token an administrator issued.")


def mark_integration_accounts(apps, schema_editor) -> int:
    """Mark the accounts the old rule called integration accounts that hold a named API token; returns how many were
    marked (idempotent: a second run marks none)."""
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Profile = apps.get_model("portfolio", "Profile")
    ApiToken = apps.get_model("portfolio", "ApiToken")
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("auditlog", "LogEntry")
    content_type = ContentType.objects.filter(app_label=User._meta.app_label, model=User._meta.model_name).first()
    invited = set()
    if content_type is not None:
        invited = set(LogEntry.objects.filter(content_type=content_type, additional_data__event="invitation_sent")
                      .values_list("object_id", flat=True))
    holding = set(ApiToken.objects.filter(from_password=False).values_list("user_id", flat=True))
    accounts = list(User.objects.filter(pk__in=holding, last_login__isnull=True,
                                        password__startswith=UNUSABLE_PASSWORD_PREFIX)
                    .exclude(pk__in=invited).order_by("pk"))
    now, marked = timezone.now(), 0
    for account in accounts:
        profile, _created = Profile.objects.get_or_create(user_id=account.pk)
        if profile.integration_account:
            continue
        Profile.objects.filter(pk=profile.pk).update(integration_account=True)
        marked += 1
        if content_type is not None:
            LogEntry.objects.create(
                content_type=content_type, object_pk=str(account.pk), object_id=account.pk,
                object_repr=account.username, action=1, actor=None, changes={"integration_account": [False, True]},
                additional_data={"event": "integration_account_marked", "source": "migration", "reason": REASON},
                timestamp=now)
    return marked


class Migration(migrations.Migration):

    dependencies = [
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("portfolio", "0040_profile_integration_account"),
    ]

    operations = [
        migrations.RunPython(mark_integration_accounts, migrations.RunPython.noop),
    ]
