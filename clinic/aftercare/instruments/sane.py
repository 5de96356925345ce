"""SANE, the Single Assessment Numeric Evaluation: one question, 0-100, higher is better.

The question as described in "Clinimetrics: Single Assessment Numeric Evaluation", J Physiother
2019;65:111 (read at https://www.scribd.com/document/530494272/Clinimetrics-Single-Assessment-Numeric-Evaluation):
"On a scale from 0 to 100, how would you rate your (eg, injured limb) today, with 100 being
normal?"; the part in brackets is filled in by whoever gives it, here "treated area".

Licence: unknown. No owner's terms were found; DESIGN.md ("Follow-up") ships it as `unknown` until
the clinic records the owner's terms, and the instrument list says so.

No MCID derived for the knee or hip: the 15 % reported for shoulder patients (secondary source,
https://limberhealth.freshdesk.com/support/solutions/articles/151000175699-the-single-assessment-numeric-evaluation-sane-)
is not carried over, so the responder value is null (DESIGN.md)."""

from clinic.aftercare.instruments.scoring import InstrumentSpec, Item

SPEC = InstrumentSpec(
    key="sane",
    title="Single assessment numeric evaluation (SANE)",
    items=(
        Item(
            "sane",
            "On a scale from 0 to 100, how would you rate your treated area today, with 100 being normal?",
            minimum=0,
            maximum=100,
            max_label="Normal",
        ),
    ),
    better="higher",
    score_min=0,
    score_max=100,
    mcid=None,
    mcid_percent=None,
    mcid_source="None derived for the knee or hip; responder not computed.",
    licence="Terms unknown: no owner's terms found. Record them before relying on this instrument.",
    licence_status="unknown",
    licence_source="DESIGN.md, Follow-up; question as in J Physiother 2019;65:111 "
    "(https://www.scribd.com/document/530494272/Clinimetrics-Single-Assessment-Numeric-Evaluation)",
    population_note="No MCID has been derived for the knee or hip, so SANE shows the score and its "
    "change but no responder status.",
    scoring="single",
    content_source="J Physiother 2019;65:111 (Clinimetrics: Single Assessment Numeric Evaluation).",
)
