"""Issue #30, item 3: a partner's subscriptions change on its written request, and each change is kept:
what was added and removed, who at the partner asked and why, and who made it (SubscriptionChange,
append-only)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0019_webhook_delivery_controls"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SubscriptionChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("added", models.JSONField(blank=True, default=list)),
                ("removed", models.JSONField(blank=True, default=list)),
                (
                    "requested_by",
                    models.CharField(
                        help_text="Who at the partner asked, in writing: name and care role "
                        "(or the command that made it).",
                        max_length=200,
                        verbose_name="requested by",
                    ),
                ),
                (
                    "reason",
                    models.TextField(
                        help_text="Why: the request as written, or where it is kept.", max_length=2000
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="subscription_changes",
                        to="intake.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [models.Index(fields=["partner", "at"], name="subscription_change_idx")],
            },
        ),
    ]
