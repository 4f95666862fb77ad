"""The urgent-symptom triggers (search_app/search/data/urgent_triggers.tsv): queries
that describe an emergency set off the notice; general and educational
questions do not. Every trigger line must be set off by at least one query
here, so a line nobody tested cannot slip into the reviewed file."""
import json

import pytest

from search_app.search.urgent import SIGNS, UrgentTriggers, default_triggers, normalise, urgent_notice, urgent_signs
from tests.conftest import SHARED

# query -> the sign the notice must name
TRIGGERING = {
    # heart attack
    "crushing chest pain right now": "heart attack",
    "feels like an elephant is sitting on my chest": "heart attack",
    "severe chest pain right now": "heart attack",
    "I have really bad chest pain": "heart attack",
    "my dad has terrible pressure in his chest": "heart attack",
    "sudden severe chest pain": "heart attack",
    "chest pain spreading to my left arm": "heart attack",
    "chest pain radiating to jaw": "heart attack",
    "pain in my chest going down my arm": "heart attack",
    "chest pain and left arm numb": "heart attack",
    "chest tightness and jaw pain": "heart attack",
    "chest pain and sweating": "heart attack",
    "chest pain with shortness of breath": "heart attack",
    "chest pressure, cold sweat and nausea": "heart attack",
    "tight chest and I feel dizzy and light-headed": "heart attack",
    "chest pain that won't go away": "heart attack",
    "i think i'm having a heart attack": "heart attack",
    "what to do if someone is having a heart attack": "heart attack",
    "heart attack right now what do i do": "heart attack",
    # stroke (FAST and more)
    "my mom's face is drooping on one side": "stroke",
    "face drooping": "stroke",
    "his smile is lopsided": "stroke",
    "slurred speech": "stroke",
    "dad is slurring his words": "stroke",
    "suddenly can't speak properly": "stroke",
    "sudden trouble talking and understanding speech": "stroke",
    "sudden weakness in my left arm": "stroke",
    "can't lift my arm all of a sudden": "stroke",
    "sudden numbness on one side of the body": "stroke",
    "one side of my face went numb": "stroke",
    "suddenly confused and disoriented": "stroke",
    "sudden severe headache": "stroke",
    "worst headache of my life": "stroke",
    "sudden vision loss": "stroke",
    "suddenly lost vision in one eye": "stroke",
    "sudden dizziness and can't walk straight, face numb": "stroke",
    "how do i know if someone is having a stroke": "stroke",
    "i think i am having a mini stroke": "stroke",
    # cardiac arrest
    "my husband is not breathing": "cardiac arrest",
    "he collapsed and is unresponsive": "cardiac arrest",
    "i collapsed at work": "cardiac arrest",
    "she collapsed on the floor": "cardiac arrest",
    "can't find his pulse": "cardiac arrest",
    "no pulse": "cardiac arrest",
    "heart stopped suddenly is that a heart attack": "cardiac arrest",
    "person unconscious after collapsing": "cardiac arrest",
    "my grandfather won't wake up": "cardiac arrest",
    "I think she went into cardiac arrest": "cardiac arrest",
    # severe breathing trouble
    "I can't breathe": "breathing",
    "cannot breathe and lips turning blue": "breathing",
    "struggling to breathe": "breathing",
    "severe shortness of breath": "breathing",
    "suddenly short of breath": "breathing",
    "short of breath at rest and can't speak": "breathing",
    # fainting with chest pain / racing heart / on exertion
    "fainted with chest pain": "fainting",
    "passed out, heart racing": "fainting",
    "blacked out while running": "fainting",
    # coughing up blood
    "coughing up blood and chest pain": "bleeding",
    "coughing up blood and short of breath": "bleeding",
}

NOT_TRIGGERING = [
    # the brief's general/educational questions
    "what are the symptoms of a heart attack",
    "chest pain causes",
    "stroke risk factors",
    "how to prevent a stroke",
    # more of the same kind
    "heart attack signs in women",
    "what does a heart attack feel like",
    "can you have a heart attack without chest pain",
    "recovery after a heart attack",
    "what is cardiac arrest",
    "cardiac arrest vs heart attack",
    "how is a stroke treated",
    "what is a mini stroke",
    "signs of a stroke",
    "what is FAST for stroke",
    "arm weakness after a stroke rehabilitation",
    "will my dad get movement back after a stroke left one side paralyzed",
    "chest pain when i walk uphill, goes away when i rest",
    "sharp chest pain that eases when i sit up and lean forward",
    "I have a faint pain in my chest sometimes",
    "what causes chest pain",
    "shortness of breath causes",
    "heart failure breathless when lying down",
    "coughing up blood causes",
    "does your heart stop when you sneeze",
    "why can't I find my pulse on my wrist",
    "my legs feel weak since I started statins",
    "fingers turning blue in the cold",
    "collapsed lung",
    "leaky heart valve",
    "mitral regurgitation treatment",
    "heart pounding and skipping beats",
    "what is a normal blood pressure",
    "how to do CPR",
    "aspirin to prevent heart attack",
    "is it ok to breathe through my mouth",
    "I can breathe fine but my ankles swell",
    "sudden cardiac death in athletes",
    "",
    "   ",
]


@pytest.mark.parametrize("query,sign", sorted(TRIGGERING.items()))
def test_emergency_descriptions_trigger_the_notice(query, sign):
    assert SIGNS[sign] in urgent_signs(query), f"{query!r} should name {sign}"


@pytest.mark.parametrize("query", NOT_TRIGGERING)
def test_general_and_educational_questions_do_not_trigger(query):
    matched = default_triggers().matches(query)
    assert not matched, f"{query!r} set off line(s) {[t.line for t in matched]}: {[t.text for t in matched]}"


def test_every_trigger_line_is_exercised_by_a_test_query():
    triggers = default_triggers()
    fired = {t.line for query in TRIGGERING for t in triggers.matches(query)}
    untested = [(t.line, t.text) for t in triggers.triggers if t.line not in fired]
    assert not untested, f"trigger lines without a triggering test query: {untested}"


def test_every_sign_has_a_trigger():
    assert {t.sign for t in default_triggers().triggers} == set(SIGNS)


def test_the_shared_dev_queries_trigger_only_where_they_describe_an_emergency():
    path = SHARED / "eval" / "dev-queries.jsonl"
    if not path.exists():
        pytest.skip(f"shared dev queries not found at {path}")
    queries = [json.loads(line)["query"] for line in path.read_text().splitlines() if line.strip()]
    triggered = sorted(q for q in queries if default_triggers().matches(q))
    # Reviewed by hand: both describe something that may be happening now.
    assert triggered == ["heart stopped suddenly is that a heart attack",
                         "how do i know if someone is having a stroke"]


def test_matching_ignores_case_punctuation_articles_and_contraction_spelling():
    assert normalise("I’m having A Heart-Attack!") == ("i", "am", "having", "heart", "attack")
    for spelling in ("I can't breathe", "i cant breathe", "I cannot breathe", "I CAN NOT BREATHE"):
        assert urgent_signs(spelling) == [SIGNS["breathing"]]
    assert urgent_signs("I can breathe") == []  # the "not" matters


def test_the_file_format_is_checked():
    with pytest.raises(ValueError, match=r"x\.tsv:1: .*two TAB-separated"):
        UrgentTriggers.parse("stroke face drooping", "x.tsv")
    with pytest.raises(ValueError, match=r"x\.tsv:1: unknown sign"):
        UrgentTriggers.parse("flu\tfever", "x.tsv")
    with pytest.raises(ValueError, match=r"x\.tsv:2: .*no regular expressions"):
        UrgentTriggers.parse("# c\nstroke\tface droop.*", "x.tsv")
    with pytest.raises(ValueError, match=r"x\.tsv:1: set @x is not defined"):
        UrgentTriggers.parse("stroke\t@x + face", "x.tsv")
    triggers = UrgentTriggers.parse("@f\tface | smile\nstroke\t@f + drooping\n", "x.tsv")
    assert triggers.signs("Smile drooping") == [SIGNS["stroke"]] and triggers.signs("face") == []


# ---------------------------------------------------------------- the notice, in words (page and API)

def test_a_heart_attack_description_gets_the_notice_with_numbers_and_conditions():
    notice = urgent_notice("crushing chest pain and my left arm is numb")
    assert notice is not None and notice.level == "emergency"
    assert notice.conditions == (SIGNS["heart attack"],)
    assert [(n.number, n.region) for n in notice.numbers] == [("911", "US"), ("112", "Europe")]
    assert notice.message.startswith("Call 911 in the US, 112 in Europe, or your local emergency number now.")
    assert "can be a sign of a heart attack." in notice.message and "CPR" not in notice.message


def test_no_notice_for_a_general_question():
    assert urgent_notice("leaky heart valve") is None and urgent_notice("") is None


def test_the_notice_names_every_sign_and_adds_cpr_for_cardiac_arrest():
    notice = urgent_notice("my husband collapsed and is not breathing")
    assert notice.conditions == tuple(urgent_signs("my husband collapsed and is not breathing"))
    assert SIGNS["cardiac arrest"] in notice.conditions and "start CPR" in notice.message
