"""The audit chain becomes keyed: each row names the audit key it was HMAC'd with, and the case
carries a seal over its head, clinical fields and patient identity. The existing chains are
re-keyed by recommendations 0009, once the draft table has its chain columns too."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0014_notification_feed_position"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="audit_seal",
            field=models.CharField(blank=True, editable=False, max_length=100),
        ),
        migrations.AddField(
            model_name="caseevent",
            name="hash_key",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
    ]
