"""Escalation emails leave after commit: sent_at becomes null until the email went out."""

import django.utils.timezone
from django.db import migrations, models


def existing_rows_were_sent(apps, schema_editor) -> None:
    # Rows written before this migration were sent in the transaction that wrote them.
    Escalation = apps.get_model("recommendations", "Escalation")
    Escalation.objects.update(created_at=models.F("sent_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0007_specialist_signature"),
    ]

    operations = [
        migrations.AddField(
            model_name="escalation",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="escalation",
            name="claimed_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="escalation",
            name="attempts",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="escalation",
            name="last_error",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="escalation",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(existing_rows_were_sent, migrations.RunPython.noop),
    ]
