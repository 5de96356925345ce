"""Rule set v3: a decision records the protocol it is made under (a snapshot), the case's sites and
the notice text signed; left out of the chain hash while empty, so earlier decisions verify."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0010_protocols"),
    ]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="notice",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="decision",
            name="protocol",
            field=models.JSONField(blank=True, default=None, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="decision",
            name="sites",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
    ]
