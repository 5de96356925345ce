from django import forms

from recommendations.models import FinalRoute


class ReviewActionForm(forms.Form):
    """One form for every review action; the service says which fields an action needs."""

    ACTIONS = [
        ("claim", "Claim"),
        ("release", "Release claim"),
        ("approve", "Approve the draft"),
        ("amend", "Amend to another route"),
        ("decline", "Decline"),
        ("ask", "Ask for information"),
    ]

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    route = forms.ChoiceField(
        label="Final route",
        choices=[("", "Choose a route")] + FinalRoute.choices,
        required=False,
    )
    # "id:version" of one of the protocols covering the amended route; empty: the engine's choice.
    protocol = forms.CharField(label="Protocol", required=False, max_length=100)
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    question = forms.CharField(
        label="Question for the front desk or partner",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class AddendumForm(forms.Form):
    reason = forms.CharField(
        label="Correction and its reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
