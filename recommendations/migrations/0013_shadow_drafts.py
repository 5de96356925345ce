"""Shadow drafts (RULESET_SHADOW): a draft a second rule set would have made, stored beside the live
draft of the same sequence. Every existing draft is live (shadow false); the flag joins a draft's
hash only when set (Recommendation.chain_content), so the drafts chained before keep their hashes.
A live draft's sequence stays unique per case; a shadow's per case, sequence and rule set."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0012_current_draft_is_a_selector"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="recommendation",
            name="recommendation_unique_sequence",
        ),
        migrations.AddField(
            model_name="recommendation",
            name="shadow",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddConstraint(
            model_name="recommendation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("shadow", False)),
                fields=("case", "sequence"),
                name="recommendation_unique_sequence",
            ),
        ),
        migrations.AddConstraint(
            model_name="recommendation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("shadow", True)),
                fields=("case", "sequence", "ruleset_version"),
                name="recommendation_unique_shadow",
            ),
        ),
    ]
