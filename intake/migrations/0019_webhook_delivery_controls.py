"""Issue #30, item 5: delivery as Standard Webhooks asks. A receiver answering 410 Gone disables the
partner's webhooks until someone re-enables them (webhook_disabled_at, _reason); a rotated signing
secret keeps signing beside the new one until previous_secret_expires_at.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0018_partner_event_types"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="previous_secret_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="partner",
            name="previous_webhook_secret",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="partner",
            name="webhook_disabled_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="webhooks disabled at"),
        ),
        migrations.AddField(
            model_name="partner",
            name="webhook_disabled_reason",
            field=models.CharField(blank=True, max_length=300, verbose_name="why webhooks are disabled"),
        ),
    ]
