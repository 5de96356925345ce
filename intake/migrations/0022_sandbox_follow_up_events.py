"""Issue #26: `referral.follow_up` (a follow-up time point scored) joins the optional event types
(intake.event_types). A sandbox partner receives every optional type, so the sandboxes that exist
already get it too; other partners wait for the clinic's admin to add it."""

from django.db import migrations

# The optional event types when this migration was written (intake.event_types.OPTIONAL).
OPTIONAL_EVENT_TYPES = [
    "referral.decision_corrected",
    "referral.treated",
    "referral.course_closed",
    "referral.adverse_event",
    "referral.follow_up",
]
NEW_TYPES = {"referral.follow_up"}


def sandboxes_receive_every_type(apps, schema_editor):
    # Each sandbox keeps what it had (an admin may have removed a type) and gains the new type.
    for partner in apps.get_model("intake", "Partner").objects.filter(is_sandbox=True):
        wanted = set(partner.event_types) | NEW_TYPES
        partner.event_types = [name for name in OPTIONAL_EVENT_TYPES if name in wanted]
        partner.save(update_fields=["event_types"])


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0021_sandbox_aftercare_events"),
    ]

    operations = [
        migrations.RunPython(sandboxes_receive_every_type, migrations.RunPython.noop, elidable=True),
    ]
