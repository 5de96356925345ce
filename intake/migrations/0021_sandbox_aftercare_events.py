"""Issue #25: the event types that follow the decision (referral.treated, referral.course_closed,
referral.adverse_event) join the optional ones (intake.event_types). A sandbox partner receives every
optional type, so the sandboxes that exist already get them too; other partners wait for the
clinic's admin to add them."""

from django.db import migrations

# The optional event types when this migration was written (intake.event_types.OPTIONAL).
OPTIONAL_EVENT_TYPES = [
    "referral.decision_corrected",
    "referral.treated",
    "referral.course_closed",
    "referral.adverse_event",
]
NEW_TYPES = {"referral.treated", "referral.course_closed", "referral.adverse_event"}


def sandboxes_receive_every_type(apps, schema_editor):
    # Each sandbox keeps what it had (an admin may have removed a type) and gains the new types.
    for partner in apps.get_model("intake", "Partner").objects.filter(is_sandbox=True):
        wanted = set(partner.event_types) | NEW_TYPES
        partner.event_types = [name for name in OPTIONAL_EVENT_TYPES if name in wanted]
        partner.save(update_fields=["event_types"])


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0020_subscription_changes"),
    ]

    operations = [
        migrations.RunPython(sandboxes_receive_every_type, migrations.RunPython.noop, elidable=True),
    ]
