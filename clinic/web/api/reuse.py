"""Serializers reused on the hot paths instead of built per request."""

import threading

from rest_framework import serializers

from clinic.web.api.serializers import ReferralSerializer


class _Reused(threading.local):
    """One instance of each serializer per thread, for the hot paths: DRF builds a serializer's
    fields anew for every instance (a deep copy of each nested field), about half the cost of
    validating a referral. Validating and representing keep nothing on the instance."""

    def __init__(self):
        self.instances: dict[type, serializers.Serializer] = {}

    def of(self, serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
        instance = self.instances.get(serializer_class)
        if instance is None:
            instance = self.instances[serializer_class] = serializer_class()
        return instance


_reused = _Reused()


def validated_referral(data: object) -> tuple[dict | None, dict | None]:
    """A referral body checked as ReferralSerializer(data=...).is_valid() checks it: (the
    validated data, None), or (None, the errors)."""
    try:
        return _reused.of(ReferralSerializer).run_validation(data), None
    except serializers.ValidationError as exc:
        return None, exc.detail


def represented(serializer_class: type[serializers.Serializer], value: object) -> dict:
    """`serializer_class(value).data`, without building the serializer's fields again."""
    return _reused.of(serializer_class).to_representation(value)
