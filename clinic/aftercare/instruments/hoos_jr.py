"""HOOS, JR.: the Hip disability and Osteoarthritis Outcome Score for Joint Replacement, 6 items.

Licence. As KOOS, JR. (https://hss.edu/hoos-jr-koos-jr-outcomes-surveys.asp): nonproprietary and
free to use; "Do not alter the surveys without written permission from their developer, Stephen
Lyman, PhD." Item text, options and table are kept word for word.

Items and options. Lyman et al., Clin Orthop Relat Res 2016;474(6):1472-82 (doi
10.1007/s11999-016-4718-2, https://pmc.ncbi.nlm.nih.gov/articles/PMC4868170): six items from the
HOOS. The wording and the two instructions were read from a clinic's reproduction of the HSS form
(https://nhoc.com/hoos/) and the items checked against Stanford Health Care's total joint registry
(github.com/chamtrain/choir-d, src/main/resources/shc/totaljoint/xml/RightHOOSJR.xml) and the parent
HOOS (https://www.prohealthsys.com/wp-content/plugins/orthoscores/page/hip_disability_osteoarthritis_outcome_score_hoos.php).
Options None/Mild/Moderate/Severe/Extreme score 0-4 as in the HOOS.

Scoring. "The HOOS JR is scored by summing the raw response (range 0-24) and then converting it to
an interval score using the table provided below. The interval score ranges from 0 to 100 where 0
represents total hip disability and 100 represents perfect hip health." (https://nhoc.com/hoos/).
The table is as transcribed in Stanford's registry (github.com/chamtrain/choir-d,
src/main/java/edu/stanford/registry/server/shc/totaljoint/TotalJointSurveyService.java,
HoosJRScoreTable) and, identically, in two independent implementations found in public code. HSS's
scoring PDF was not reachable from here: check the table against it (README, "Instruments").

MCID. 18.0 points: the median of the MCIDs in Hung et al., World J Orthop 2018;9(3):41-49
(https://www.wjgnet.com/2218-5836/abstract/v9/i3/41.htm), 2,226 adults with joint conditions at an
orthopaedic clinic."""

from clinic.aftercare.instruments.koos_jr import SEVERITY
from clinic.aftercare.instruments.scoring import InstrumentSpec, Item

PAIN = "What amount of hip pain have you experienced the last week during the following activities?"
FUNCTION = (
    "This section describes your ability to move around and look after yourself. For each of the "
    "following activities, please indicate the degree of difficulty you have experienced in the last "
    "week due to your hip."
)

# Interval score for raw sums 0..24 (index = raw sum).
INTERVAL_SCORES = (
    100.000, 92.340, 85.257, 80.550, 76.776, 73.472, 70.426, 67.516, 64.664, 61.815,
    58.930, 55.985, 52.965, 49.858, 46.652, 43.335, 39.902, 36.363, 32.735, 29.009,
    25.103, 20.805, 15.633, 8.104, 0.000,
)  # fmt: skip

SPEC = InstrumentSpec(
    key="hoos_jr",
    title="HOOS, JR. (hip)",
    items=(
        Item("hoos_jr_1", "Going up or down stairs", SEVERITY, section=PAIN),
        Item("hoos_jr_2", "Walking on an uneven surface", SEVERITY),
        Item("hoos_jr_3", "Rising from sitting", SEVERITY, section=FUNCTION),
        Item("hoos_jr_4", "Bending to the floor/pick up an object", SEVERITY),
        Item("hoos_jr_5", "Lying in bed (turning over, maintaining hip position)", SEVERITY),
        Item("hoos_jr_6", "Sitting", SEVERITY),
    ),
    better="higher",
    score_min=0,
    score_max=100,
    mcid=18.0,
    mcid_percent=None,
    mcid_source="Hung M et al. World J Orthop 2018;9(3):41-49, median MCID "
    "(https://www.wjgnet.com/2218-5836/abstract/v9/i3/41.htm)",
    licence="HSS: nonproprietary and free to use; text and scoring table verbatim; no alteration "
    "without the developer's (Stephen Lyman, PhD) written permission.",
    licence_status="free",
    licence_source="https://hss.edu/hoos-jr-koos-jr-outcomes-surveys.asp",
    population_note="HOOS, JR. was developed as a short form for hip replacement (total hip "
    "arthroplasty; Lyman 2016). Its MCID of 18.0 comes from adults with joint conditions at an "
    "orthopaedic clinic (Hung 2018), not from patients given this clinic's treatments: read "
    "responders with that caveat.",
    scoring="table",
    table=INTERVAL_SCORES,
    content_source="Items: Lyman 2016 (doi 10.1007/s11999-016-4718-2) via the HSS form as "
    "reproduced by clinics; table: as transcribed in Stanford's total joint registry, to be checked "
    "against HSS's scoring sheet.",
)
