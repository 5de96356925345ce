"""The review queue's filters (its right-hand column)."""

import uuid

from django.contrib import admin
from django.utils import timezone

from intake.models import CaseSource, Partner
from recommendations.admin.common import FLAG_LABELS
from recommendations.models import DraftRoute


class RouteFilter(admin.SimpleListFilter):
    title = "draft route"
    parameter_name = "route"

    def lookups(self, request, model_admin):
        return DraftRoute.choices

    def queryset(self, request, queryset):
        return queryset.filter(draft_route=self.value()) if self.value() else queryset


class FlagFilter(admin.SimpleListFilter):
    title = "flag"
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return list(FLAG_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in FLAG_LABELS:
            # Text match on the JSON list: works on PostgreSQL and on SQLite alike.
            return queryset.filter(draft_flags__icontains=f'"{self.value()}"')
        return queryset


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        # A sandbox partner's cases never reach the queue, so it is no choice here.
        partners = Partner.objects.filter(is_sandbox=False).order_by("name").values_list("id", "name")
        return [(CaseSource.FRONT_DESK, "Front desk")] + [(str(pk), name) for pk, name in partners]

    def queryset(self, request, queryset):
        if self.value() == CaseSource.FRONT_DESK:
            return queryset.filter(source=CaseSource.FRONT_DESK)
        if self.value():
            try:
                return queryset.filter(partner_id=uuid.UUID(self.value()))
            except ValueError:  # a hand-edited URL: no partner has that id
                return queryset.none()
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not yet due")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(due_at__lt=now)
        if self.value() == "no":
            return queryset.filter(due_at__gte=now)
        return queryset
