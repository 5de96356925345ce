"""The published list of body sites a case may name as affected, with their SNOMED CT codes.

v1 published the paired joints, the spine regions and skin; rule set v2 adds the
upper arm, forearm, thigh and lower leg on each side, and face, trunk and perianal.

Each SNOMED CT concept id and its description was looked up in public FHIR
terminology content, not recalled: the lateral structures in a FHIR Shorthand value
set of extremity finding locations (`Extremity_Assessment_Finding_Location_VS`),
each also found in at least one other public FHIR resource or code list; the spine
regions in a FHIR rendering of DICOM CID 7304 (repository
bvdh/dicom-terminology-in-fhir) and in other SNOMED mappings; skin, face and trunk
in FHIR value sets and examples that use them as `bodySite`. No SNOMED CT concept
for the perianal region could be confirmed that way, so `perianal` has none: the
FHIR door accepts it only in our own code system.
"""

from dataclasses import dataclass

_PAIRED_V1 = ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "foot")
_PAIRED_V2 = ("upper_arm", "forearm", "thigh", "lower_leg")


@dataclass(frozen=True)
class BodySite:
    code: str
    label: str
    snomed_ct: str | None  # the SNOMED CT concept id, or None where none was confirmed
    snomed_display: str = ""

    @property
    def side(self) -> str | None:
        """ "left" or "right" for a sided site, else None."""
        head = self.code.split("_", 1)[0]
        return head if head in ("left", "right") else None


# (site code) -> (SNOMED CT concept id, its description as found)
_SNOMED: dict[str, tuple[str, str]] = {
    "left_shoulder": ("91775009", "Structure of left shoulder region"),
    "right_shoulder": ("91774008", "Structure of right shoulder region"),
    "left_elbow": ("368148009", "Left elbow region structure"),
    "right_elbow": ("368149001", "Right elbow region structure"),
    "left_wrist": ("5951000", "Structure of left wrist region"),
    "right_wrist": ("9736006", "Structure of right wrist region"),
    "left_hand": ("85151006", "Structure of left hand"),
    "right_hand": ("78791008", "Structure of right hand"),
    "left_hip": ("287679003", "Left hip region structure"),
    "right_hip": ("287579007", "Right hip region structure"),
    "left_knee": ("82169009", "Structure of left knee region"),
    "right_knee": ("6757004", "Structure of right knee region"),
    "left_ankle": ("51636004", "Structure of left ankle"),
    "right_ankle": ("6685009", "Structure of right ankle"),
    "left_foot": ("22335008", "Structure of left foot"),
    "right_foot": ("7769000", "Structure of right foot"),
    "left_upper_arm": ("368208006", "Left upper arm structure"),
    "right_upper_arm": ("368209003", "Right upper arm structure"),
    "left_forearm": ("66480008", "Structure of left forearm"),
    "right_forearm": ("64262003", "Structure of right forearm"),
    "left_thigh": ("61396006", "Structure of left thigh"),
    "right_thigh": ("11207009", "Structure of right thigh"),
    "left_lower_leg": ("48979004", "Structure of left lower leg"),
    "right_lower_leg": ("32696007", "Structure of right lower leg"),
    "cervical_spine": ("122494005", "Cervical spine structure"),
    "thoracic_spine": ("122495006", "Thoracic spine structure"),
    "lumbar_spine": ("122496007", "Lumbar spine structure"),
    "skin": ("39937001", "Skin structure"),
    "face": ("89545001", "Face structure"),
    "trunk": ("22943007", "Trunk structure"),
}


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


_CODES = [
    *(f"{side}_{part}" for part in _PAIRED_V1 for side in ("left", "right")),
    "cervical_spine",
    "thoracic_spine",
    "lumbar_spine",
    "skin",
    *(f"{side}_{part}" for part in _PAIRED_V2 for side in ("left", "right")),
    "face",
    "trunk",
    "perianal",
]
SITES: dict[str, BodySite] = {
    code: BodySite(code, _label(code), *_SNOMED.get(code, (None, ""))) for code in _CODES
}
# code -> label, the published list (`GET /api/v1/body-sites/`).
BODY_SITES: dict[str, str] = {code: site.label for code, site in SITES.items()}
BY_SNOMED: dict[str, BodySite] = {site.snomed_ct: site for site in SITES.values() if site.snomed_ct}
