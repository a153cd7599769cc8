"""One account per email address: a unique index on auth_user's lower(email).

Users log in by email (a link or a password), so two accounts with one address would
make a login ambiguous. The sign-up, invitation and email-change paths look the
address up first; the index settles the race between two of them at once. Accounts
without an address (`manage.py createsuperuser` without one) are left out of it.
"""

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "checks_user_email_ci_unique"


def refuse_duplicates(apps, schema_editor):
    """Stop with the addresses to fix if accounts already share one."""
    User = apps.get_model("auth", "User")
    shared = (
        User.objects.using(schema_editor.connection.alias)
        .exclude(email="")
        .annotate(address=Lower("email"))
        .values("address")
        .annotate(accounts=Count("id"))
        .filter(accounts__gt=1)
        .order_by("address")
    )
    found = [row["address"] for row in shared]
    if found:
        raise RuntimeError(
            "Several accounts share these email addresses (compared without case): "
            f"{', '.join(found)}. Give each account its own address (or delete the "
            "extra accounts) in `manage.py shell`, then run `migrate` again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("checks", "0004_email_verification"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(email)) "
            "WHERE email <> ''",
            f"DROP INDEX {INDEX}",
        ),
    ]
