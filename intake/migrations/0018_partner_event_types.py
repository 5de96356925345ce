"""Issue #24: Partner.event_types, the optional event types a partner receives besides ping and the
v1 types (intake.event_types; DESIGN.md, "Partners: events after the decision"). Empty for every
partner but the sandboxes, which receive all of them.
"""

from django.db import migrations, models

import intake.event_types

# The optional event types when this migration was written (intake.event_types.OPTIONAL): a sandbox
# partner receives all of them, so those that exist already start with them too.
OPTIONAL_EVENT_TYPES = ["referral.decision_corrected"]


def sandboxes_receive_every_type(apps, schema_editor):
    apps.get_model("intake", "Partner").objects.filter(is_sandbox=True).update(
        event_types=OPTIONAL_EVENT_TYPES
    )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0017_pending_contact_update"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="event_types",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Sent to this partner by webhook and listed in its events feed, besides ping and "
                "the v1 types, which every partner receives. Add one on the partner's written request naming "
                "its care role; a sandbox partner starts with all of them.",
                validators=[intake.event_types.validate_event_types],
                verbose_name="optional events",
            ),
        ),
        migrations.RunPython(sandboxes_receive_every_type, migrations.RunPython.noop, elidable=True),
    ]
