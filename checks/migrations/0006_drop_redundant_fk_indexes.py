"""Drop the single-column indexes of Check.project and Ping.owner.

Each is the leading column of a wider index that serves the same lookups
(check_project_slug on (project, slug), ping_check_n on (owner, n)); every ping's
UPDATE of its check and INSERT of its row maintained them for nothing.

Only the indexes go: Django's own AlterField would also drop and re-add the foreign
keys, re-checking every ping row under a lock that stops pings while it runs.
"""

import django.db.models.deletion
from django.db import migrations, models

# Django's names for them (the same on PostgreSQL and SQLite).
INDEXES = [
    ("checks_check_project_id_405bcf82", "checks_check", "project_id"),
    ("checks_ping_owner_id_65446f6e", "checks_ping", "owner_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("checks", "0005_unique_user_email"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="check",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="checks",
                        to="checks.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="ping",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pings",
                        to="checks.check",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in INDEXES
            ],
        ),
    ]
