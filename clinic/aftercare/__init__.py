"""What follows the decision: the treatment course, the treatment record, adverse events and
follow-up (DESIGN.md, "After the decision").

A Django app (label `aftercare`) above both intake and recommendations: its models point at a
case and a decision by foreign keys from here; nothing below imports it. It follows the case's
pattern: the course's status table (`statuses.py`), one module of services that move a course
with compare-and-set and an event per move, selectors for what the faces read, and tasks that
call services. What a move sets off is registered in `apps.py`, not imported into the services."""
