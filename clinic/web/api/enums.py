"""Open enums (DESIGN.md, "How v1 grows"): the values known today, which may grow within v1 without
notice. The schema marks them `x-extensible-enum` in place of `enum`, so that a client generated from
it does not refuse a new value; closed enums (referral status, route, outcome, delivery state) keep
`enum`."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers


def open_enum(values, **schema) -> dict:
    """The schema of an open enum of strings."""
    return {"type": "string", "x-extensible-enum": list(values), **schema}


class OpenChoiceField(serializers.ChoiceField):
    """A choice of an open enum: validated against today's values, documented as `x-extensible-enum`."""


class OpenChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = OpenChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction) -> dict:
        return open_enum(value for value in self.target.choices if value not in ("", None))
