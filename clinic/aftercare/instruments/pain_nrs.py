"""Pain numeric rating scale, 0-10: one question, lower is better.

A generic scale with no owner (DESIGN.md, "Follow-up": "generic, free"); the question's wording is
this clinic's own. Its anchors are those of Farrar et al., Pain 2001;94(2):149-58
(https://pubmed.ncbi.nlm.nih.gov/11690728/): "0=no pain and 10=worst possible pain". The recall
period (the last week) matches KOOS, JR. and HOOS, JR., so the three are answered about the same
days.

MCID, from the same paper: "a reduction of approximately two points or a reduction of approximately
30% in the PI-NRS represented a clinically important difference", from 2,724 patients in 10
placebo-controlled pregabalin trials (diabetic neuropathy, postherpetic neuralgia, chronic low back
pain, fibromyalgia, osteoarthritis) anchored on "much improved" or "very much improved". DESIGN.md
takes either threshold; with a baseline of 0 only the points threshold (scoring.responder)."""

from clinic.aftercare.instruments.scoring import InstrumentSpec, Item

SPEC = InstrumentSpec(
    key="pain_nrs",
    title="Pain rating, 0 to 10",
    items=(
        Item(
            "pain_nrs",
            "On average over the last week, how much pain have you had in the treated area?",
            minimum=0,
            maximum=10,
            min_label="No pain",
            max_label="Worst possible pain",
        ),
    ),
    better="lower",
    score_min=0,
    score_max=10,
    mcid=2,
    mcid_percent=30,
    mcid_source="Farrar JT et al. Pain 2001;94(2):149-58: about 2 points or about 30 % "
    "(https://pubmed.ncbi.nlm.nih.gov/11690728/)",
    licence="A generic 0-10 numeric rating scale with no owner; the wording is the clinic's own.",
    licence_status="free",
    licence_source="DESIGN.md, Follow-up (generic scale); anchors as in "
    "https://pubmed.ncbi.nlm.nih.gov/11690728/",
    population_note="The MCID (2 points or 30 % of the baseline) comes from adults with chronic pain "
    "(neuropathic pain, low back pain, fibromyalgia, osteoarthritis) in drug trials (Farrar 2001), not "
    "from patients given this clinic's treatments.",
    scoring="single",
    content_source="Anchors: Farrar 2001 (https://pubmed.ncbi.nlm.nih.gov/11690728/); "
    "question: the clinic's.",
)
