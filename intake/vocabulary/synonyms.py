"""What people type for a condition that the ICD-10-CM descriptors word otherwise: the common
abbreviations and lay terms a desk uses ("ALS", "stroke", "OA knee"), each with the words the
descriptors use, the codes it means, and where that equivalence is written.

Looked up, not recalled. Where the ICD-10-CM Tabular List itself gives the term (an inclusion
term, or the abbreviation in a category's title), the source names that code, and
tests/intake/vocabulary/test_synonyms.py reads the term back from the installed code set. The
others cite a public reference that spells the abbreviation out. The list is kept short on
purpose: an abbreviation with two common readings (PD, CD, AD) is left out rather than guessed.
"""

from dataclasses import dataclass

from intake.vocabulary.icd10cm import SOURCE as TABULAR

# The Tabular List's own words, quoted as "term" under a code.
TABULAR_NOTE = f"{TABULAR}: "


@dataclass(frozen=True)
class Synonym:
    terms: tuple[str, ...]  # what people type: "ALS", "Lou Gehrig's disease"
    meaning: str  # the words the descriptors use: "amyotrophic lateral sclerosis"
    codes: tuple[str, ...]  # ICD-10-CM codes, categories or ranges in tabular order ("M15-M19")
    source: str  # where the equivalence is written, with its address
    # (code, term) pairs the Tabular List carries, checked against the code set by the tests.
    tabular: tuple[tuple[str, str], ...] = ()


SYNONYMS: tuple[Synonym, ...] = (
    Synonym(
        terms=("stroke",),
        meaning="cerebral infarction",
        codes=("I63", "I69.3"),
        source=TABULAR_NOTE + "inclusion term “Stroke NOS” under I63.9 and “Sequelae of stroke NOS” "
        "under I69.3.",
        tabular=(("I63.9", "Stroke NOS"), ("I69.3", "Sequelae of stroke NOS")),
    ),
    Synonym(
        terms=("TIA",),
        meaning="transient cerebral ischemic attack",
        codes=("G45.9",),
        source=TABULAR_NOTE + "inclusion term “TIA” under G45.9.",
        tabular=(("G45.9", "TIA"),),
    ),
    Synonym(
        terms=("COPD",),
        meaning="chronic obstructive pulmonary disease",
        codes=("J44",),
        source=TABULAR_NOTE + "inclusion term “Decompensated COPD” under J44.1; NCBI Bookshelf glossary, "
        "“COPD: Chronic obstructive pulmonary disease”, https://www.ncbi.nlm.nih.gov/books/NBK11818/def-item/A1066/",
        tabular=(("J44.1", "Decompensated COPD"),),
    ),
    Synonym(
        terms=("DVT", "deep vein thrombosis"),
        meaning="deep vein thrombosis",
        codes=("I82.4",),
        source=TABULAR_NOTE + "inclusion terms “Deep vein thrombosis NOS” and “DVT NOS” under I82.40.",
        tabular=(("I82.40", "DVT NOS"), ("I82.40", "Deep vein thrombosis NOS")),
    ),
    Synonym(
        terms=("SLE",),
        meaning="systemic lupus erythematosus",
        codes=("M32",),
        source=TABULAR_NOTE + "category M32 “Systemic lupus erythematosus (SLE)”; inclusion term “SLE NOS” "
        "under M32.9.",
        tabular=(("M32", "Systemic lupus erythematosus (SLE)"), ("M32.9", "SLE NOS")),
    ),
    Synonym(
        terms=("CKD",),
        meaning="chronic kidney disease",
        codes=("N18",),
        source=TABULAR_NOTE + "category N18 “Chronic kidney disease (CKD)”.",
        tabular=(("N18", "Chronic kidney disease (CKD)"),),
    ),
    Synonym(
        terms=("congestive heart failure",),
        meaning="heart failure",
        codes=("I50",),
        source=TABULAR_NOTE + "inclusion term “Congestive heart failure NOS” under I50.9.",
        tabular=(("I50.9", "Congestive heart failure NOS"),),
    ),
    Synonym(
        terms=("tennis elbow",),
        meaning="lateral epicondylitis",
        codes=("M77.1",),
        source=TABULAR_NOTE + "inclusion term “Tennis elbow” under M77.1.",
        tabular=(("M77.1", "Tennis elbow"),),
    ),
    Synonym(
        terms=("frozen shoulder",),
        meaning="adhesive capsulitis shoulder",
        codes=("M75.0",),
        source=TABULAR_NOTE + "inclusion term “Frozen shoulder” under M75.0.",
        tabular=(("M75.0", "Frozen shoulder"),),
    ),
    Synonym(
        terms=("bed sore", "pressure sore", "decubitus ulcer"),
        meaning="pressure ulcer",
        codes=("L89",),
        source=TABULAR_NOTE
        + "L89 Pressure ulcer includes “bed sore”, “decubitus ulcer” and “pressure sore”.",
        tabular=(("L89", "bed sore"), ("L89", "decubitus ulcer"), ("L89", "pressure sore")),
    ),
    Synonym(
        terms=("ALS", "Lou Gehrig's disease", "Lou Gehrig disease"),
        meaning="amyotrophic lateral sclerosis",
        codes=("G12.21",),
        source="Encyclopaedia Britannica, “amyotrophic lateral sclerosis (ALS)”, also called Lou Gehrig "
        "disease, https://www.britannica.com/EBchecked/topic/22092/amyotrophic-lateral-sclerosis-ALS; "
        f"the code: {TABULAR}, G12.21 Amyotrophic lateral sclerosis.",
    ),
    Synonym(
        terms=("MS",),
        meaning="multiple sclerosis",
        codes=("G35",),
        source="IUPAC Gold Book, “multiple sclerosis”, initialism MS, "
        "https://doi.org/10.1351/goldbook.11891; "
        "MedlinePlus (NLM), Multiple Sclerosis, “Also called: MS”, "
        "http://www.nlm.nih.gov/medlineplus/multiplesclerosis.html; the code: G35 Multiple sclerosis.",
    ),
    Synonym(
        terms=("RA",),
        meaning="rheumatoid arthritis",
        codes=("M05", "M06"),
        source="IUPAC Gold Book, “rheumatoid arthritis”, initialism RA, "
        "https://doi.org/10.1351/goldbook.13651; "
        "the codes: M05 Rheumatoid arthritis with rheumatoid factor, M06 Other rheumatoid arthritis.",
    ),
    Synonym(
        terms=("OA",),
        meaning="osteoarthritis",
        codes=("M15-M19",),
        source="CDC, “Osteoarthritis (OA) is the most common form of arthritis”, "
        "https://www.cdc.gov/arthritis/basics/osteoarthritis.htm; the codes: "
        f"{TABULAR}, block M15-M19 Osteoarthritis.",
    ),
    Synonym(
        terms=("MI", "heart attack"),
        meaning="myocardial infarction",
        codes=("I21",),
        source="StatPearls, Myocardial Infarction: “Myocardial infarction (MI), colloquially known as "
        "‘heart attack’”, https://statpearls.com/point-of-care/25460; "
        "the code: I21 Acute myocardial infarction.",
    ),
    Synonym(
        terms=("GVHD",),
        meaning="graft versus host disease",
        codes=("D89.81",),
        source="NCI Dictionary of Cancer Terms, graft-versus-host disease, “Also called GVHD”, "
        "https://www.cancer.gov/Common/PopUps/popDefinition.aspx?id=CDR0000045703&version=Patient"
        "&language=English; the code: D89.81 Graft-versus-host disease.",
    ),
    Synonym(
        terms=("ACL",),
        meaning="anterior cruciate ligament",
        codes=("S83.51",),
        source="Yale Medicine, “Anterior Cruciate Ligament (ACL) Injury”, a tear or sprain of the ACL, "
        "https://www.yalemedicine.org/clinical-keywords/anterior-cruciate-ligament-injury; the code: "
        "S83.51 Sprain of anterior cruciate ligament of knee.",
    ),
)
