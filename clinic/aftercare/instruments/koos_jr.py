"""KOOS, JR.: the Knee injury and Osteoarthritis Outcome Score for Joint Replacement, 7 items.

Licence. HSS (https://hss.edu/hoos-jr-koos-jr-outcomes-surveys.asp, read 2026): "These
instruments are nonproprietary and free to use. Do not alter the surveys without written
permission from their developer, Stephen Lyman, PhD." So the item text, answer options and scoring
table below are kept word for word; nothing here rewords, reorders or shortens them.

Items and options. Lyman et al., Clin Orthop Relat Res 2016;474(6):1461-71 (doi
10.1007/s11999-016-4719-1, https://link.springer.com/doi/10.1007/s11999-016-4719-1) derived the 7
items from the full KOOS; the wording was read from a clinic's reproduction of the HSS form
(https://swiftpath.com/patients/patient-login/dr101-splash/dr101-patient-page/101-koos-survey/index.html)
and checked item by item against the parent KOOS (https://phenxtoolkit.org/protocols/view/250401)
and Stanford Health Care's total joint registry (github.com/chamtrain/choir-d,
src/main/resources/shc/totaljoint/xml/RightKOOSJR.xml, which adds "right" for laterality) and
LOINC's KOOSJR panel 82324-5 as used in a CMS ACCESS Model questionnaire (items 82325-2..82331-0;
LOINC words item 7 "Bending to floor/picking up an object", the HSS form copies and the parent KOOS
"Bending to floor/pick up an object", which is kept here).
Options None/Mild/Moderate/Severe/Extreme score 0-4 (KOOS scoring,
https://www.scribd.com/document/404984174/KOOSscoring2012-pdf).

Scoring. "KOOS, JR is scored by summing the raw response (range 0-28) and then converting it to an
interval score using the table provided below. The interval score ranges from 0 to 100 where 0
represents total knee disability and 100 represents perfect knee health." The table below is as
transcribed in Stanford's registry (github.com/chamtrain/choir-d,
src/main/java/edu/stanford/registry/server/shc/totaljoint/TotalJointSurveyService.java,
KoosJRScoreTable) and, identically, in two independent implementations found by searching public
code. HSS's own scoring PDF was not reachable from here: check the table against it before relying
on it clinically (README, "Instruments").

MCID. 15.1 points: the median of the MCIDs in Hung et al., World J Orthop 2018;9(3):41-49
(https://www.wjgnet.com/2218-5836/abstract/v9/i3/41.htm): 2,226 adults seeking care for joint
conditions at an orthopaedic clinic (mean age 61), anchor- and distribution-based."""

from clinic.aftercare.instruments.scoring import InstrumentSpec, Item, Option

SEVERITY = (
    Option(0, "None"),
    Option(1, "Mild"),
    Option(2, "Moderate"),
    Option(3, "Severe"),
    Option(4, "Extreme"),
)

STIFFNESS = (
    "The following question concerns the amount of joint stiffness you have experienced during the "
    "last week in your knee. Stiffness is a sensation of restriction or slowness in the ease with "
    "which you move your knee joint."
)
PAIN = "What amount of knee pain have you experienced the last week during the following activities?"
FUNCTION = (
    "The following questions concern your physical function. By this we mean your ability to move "
    "around and to look after yourself. For each of the following activities please indicate the "
    "degree of difficulty you have experienced in the last week due to your knee."
)

# Interval score for raw sums 0..28 (index = raw sum).
INTERVAL_SCORES = (
    100.000, 91.975, 84.600, 79.914, 76.332, 73.342, 70.704, 68.284, 65.994, 63.776,
    61.583, 59.381, 57.140, 54.840, 52.465, 50.012, 47.487, 44.905, 42.281, 39.625,
    36.931, 34.174, 31.307, 28.251, 24.875, 20.941, 15.939, 8.291, 0.000,
)  # fmt: skip

SPEC = InstrumentSpec(
    key="koos_jr",
    title="KOOS, JR. (knee)",
    items=(
        Item(
            "koos_jr_1",
            "How severe is your knee stiffness after first wakening in the morning?",
            SEVERITY,
            section=STIFFNESS,
        ),
        Item("koos_jr_2", "Twisting/pivoting on your knee", SEVERITY, section=PAIN),
        Item("koos_jr_3", "Straightening knee fully", SEVERITY),
        Item("koos_jr_4", "Going up or down stairs", SEVERITY),
        Item("koos_jr_5", "Standing upright", SEVERITY),
        Item("koos_jr_6", "Rising from sitting", SEVERITY, section=FUNCTION),
        Item("koos_jr_7", "Bending to floor/pick up an object", SEVERITY),
    ),
    better="higher",
    score_min=0,
    score_max=100,
    mcid=15.1,
    mcid_percent=None,
    mcid_source="Hung M et al. World J Orthop 2018;9(3):41-49, median MCID "
    "(https://www.wjgnet.com/2218-5836/abstract/v9/i3/41.htm)",
    licence="HSS: nonproprietary and free to use; text and scoring table verbatim; no alteration "
    "without the developer's (Stephen Lyman, PhD) written permission.",
    licence_status="free",
    licence_source="https://hss.edu/hoos-jr-koos-jr-outcomes-surveys.asp",
    population_note="KOOS, JR. was developed as a short form for knee replacement (total knee "
    "arthroplasty; Lyman 2016). Its MCID of 15.1 comes from adults with joint conditions at an "
    "orthopaedic clinic (Hung 2018), not from patients given this clinic's treatments: read "
    "responders with that caveat.",
    scoring="table",
    table=INTERVAL_SCORES,
    content_source="Items: Lyman 2016 (doi 10.1007/s11999-016-4719-1) via the HSS form as "
    "reproduced by clinics; table: as transcribed in Stanford's total joint registry, to be checked "
    "against HSS's scoring sheet.",
)
