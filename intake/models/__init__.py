"""The intake app's models, one module per concern; everything is importable from here."""

from intake.models.access import ReadAccess
from intake.models.cases import Case, CaseEvent, CaseSource, ConsentBy, Priority
from intake.models.partners import (
    IdempotencyRecord,
    Partner,
    PartnerAPIKey,
    PartnerAPIKeyManager,
    PartnerNotification,
    SubscriptionChange,
    WebhookAttempt,
    WebhookFormat,
)
from intake.models.patients import Patient, PendingContactUpdate, Sex
from intake.models.records import (
    GENESIS,
    AppendOnlyModel,
    AppendOnlyQuerySet,
    ChainedRecord,
    ImmutableRecordError,
)
from intake.statuses import FINAL_STATUSES, CaseStatus
from intake.vocabulary.contraindications import CONTRAINDICATION_LABELS, CONTRAINDICATIONS

__all__ = [
    "CONTRAINDICATIONS",
    "CONTRAINDICATION_LABELS",
    "FINAL_STATUSES",
    "GENESIS",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "Case",
    "CaseEvent",
    "CaseSource",
    "CaseStatus",
    "ChainedRecord",
    "IdempotencyRecord",
    "ImmutableRecordError",
    "Partner",
    "PartnerAPIKey",
    "PartnerAPIKeyManager",
    "PartnerNotification",
    "Patient",
    "PendingContactUpdate",
    "ConsentBy",
    "Priority",
    "ReadAccess",
    "Sex",
    "SubscriptionChange",
    "WebhookAttempt",
    "WebhookFormat",
]
