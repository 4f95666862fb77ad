"""The one attribution line, as the API and the page both say it."""
from __future__ import annotations

from search_app.search.results import attribution_of, site_of


def test_a_person_with_credentials():
    line = attribution_of("David H. Adams", "MD, Cardiothoracic Surgeon", None, kind="answer",
                          page_title="What is mitral regurgitation (MR)?")
    assert line.text == "By David H. Adams, MD, Cardiothoracic Surgeon" and line.kind == "person"
    assert [p.role for p in line.parts if p.role] == ["author", "credentials"]


def test_a_person_for_an_organisation_names_both():
    assert attribution_of("Ann Lee", None, "Heart Foundation").text == "By Ann Lee (Heart Foundation)"


def test_an_organisation():
    line = attribution_of(None, None, "National Kidney Foundation", kind="teaser", url="https://kidney.org/a")
    assert line.text == "From National Kidney Foundation" and line.kind == "organisation"


def test_neither_says_so_with_the_page_and_the_site_when_recorded():
    assert attribution_of(None, None, None, kind="answer", page_title="What is (are) Angina ?").text == \
        "Unattributed answer on ‘What is Angina?’"
    assert attribution_of(None, None, None, kind="teaser", page_title="Q?", url="https://www.example.org/x").text == \
        "Unattributed summary of a related article on ‘Q?’ at example.org"
    assert attribution_of(None, None, None).text == "Unattributed article"
    assert attribution_of(None, "MD", None).text == "Unattributed article"  # credentials need a name


def test_only_web_addresses_name_a_site():
    assert site_of("javascript:alert(1)") is None and site_of(None) is None
    assert site_of("http://www.nhlbi.nih.gov/health") == "nhlbi.nih.gov"
