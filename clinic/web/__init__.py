"""The service's faces, above both apps: the partner API and FHIR door, the front desk's pages,
and what partners are told (the outbox rows and the webhook sender). They read cases through
intake's selectors and drafts and decisions through recommendations'; nothing below imports them."""
