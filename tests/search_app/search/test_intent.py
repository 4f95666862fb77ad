"""search_app/search/intent.py: the kind of answer a question asks for, from
its wording, and the one need a question-shaped title answers. No model."""
from __future__ import annotations

import pytest

from search_app.search.intent import QUERY_CUES, TITLE_CUES, query_needs, title_need


@pytest.mark.parametrize("query, needs", [
    ("what does afib feel like", {"symptoms"}),
    ("warning signs of a heart attack", {"symptoms"}),
    ("why do my ankles swell", {"causes"}),
    ("how do you treat a leaky valve", {"treatment"}),
    ("what can i do about palpitations", {"treatment"}),
    ("how to prevent heart disease", {"prevention"}),
    ("lower my risk of a stroke", {"prevention"}),
    ("test for heart failure", {"diagnosis"}),
    ("will it go away", {"outlook"}),
    ("does it run in the family", {"inheritance"}),
    ("who gets cardiomyopathy", {"risk"}),
    ("how common is a heart murmur", {"frequency"}),
    ("leaky heart valve", set()),
    ("WHY DOES MY CHEST HURT", {"causes"}),          # case does not matter
])
def test_a_question_names_its_need(query, needs):
    assert query_needs(query) == needs


def test_a_question_may_ask_for_two_things():
    assert query_needs("what causes it and how is it treated") == {"causes", "treatment"}


def test_cue_words_inside_other_words_do_not_count():
    assert query_needs("protestant hospital") == set()      # not "test"
    assert query_needs("the fixture") == set()              # not "fix"


@pytest.mark.parametrize("title, need", [
    ("What are the symptoms of Atrial Fibrillation?", "symptoms"),
    ("What causes Heart Failure?", "causes"),
    ("What are the treatments for Angina?", "treatment"),
    ("How to prevent High Blood Pressure?", "prevention"),
    ("How to diagnose Heart Murmurs?", "diagnosis"),
    ("What is the outlook for Cardiomyopathy?", "outlook"),
    ("Who is at risk for Heart Attack?", "risk"),
    ("How many people are affected by Long QT syndrome?", "frequency"),
    ("Is Marfan syndrome inherited?", "inheritance"),
    ("What is Atrial Fibrillation?", None),                    # an overview answers no one need
    ("Symptoms and treatment of angina", None),                # two needs: not one member of a family
])
def test_a_title_answers_one_need_or_none(title, need):
    assert title_need(title) == need


def test_every_need_read_from_titles_can_be_asked_for():
    assert set(TITLE_CUES) <= set(QUERY_CUES)
