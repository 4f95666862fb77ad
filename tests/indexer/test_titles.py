"""Display titles: the NIH template leftovers cleaned, everything else kept."""
from __future__ import annotations

import json

import pytest

from indexer.titles import display_title, question_key
from tests.conftest import MEDQUAD, require_shared


@pytest.mark.parametrize("raw, clean", [
    ("What is (are) Heart Valve Diseases ?", "What are Heart Valve Diseases?"),
    ("What is (are) Varicose Veins ?", "What are Varicose Veins?"),
    ("What is (are) Arrhythmias ?", "What are Arrhythmias?"),
    ("What is (are) Pericarditis ?", "What is Pericarditis?"),
    ("What is (are) Diabetes, Heart Disease, and Stroke ?", "What is Diabetes, Heart Disease, and Stroke?"),
    ("What is (are) Mitral Valve Prolapse ?", "What is Mitral Valve Prolapse?"),
    ("What is (are) Transposition of the great arteries ?", "What is Transposition of the great arteries?"),
    ("What is (are) Heart Disease in Women ?", "What is Heart Disease in Women?"),
    ("Who is at risk for Stroke? ?", "Who is at risk for Stroke?"),
    ("How to diagnose Heart Failure ?", "How to diagnose Heart Failure?"),
    ("what research (or clinical trials) is being done for Stroke ?",
     "What research (or clinical trials) is being done for Stroke?"),
    ("Do you have information about Statins", "Do you have information about Statins?"),
    ("What is mitral regurgitation (MR)?", "What is mitral regurgitation (MR)?"),
    ("Why Is Heart Disease So Prevalant?", "Why Is Heart Disease So Prevalant?"),
    ("Heart  disease , a  summary", "Heart disease, a summary"),
    ("Drug-free ways to lower blood pressure", "Drug-free ways to lower blood pressure"),
])
def test_display_title(raw, clean):
    assert display_title(raw) == clean


def test_the_question_key_ignores_case_and_template_leftovers():
    assert question_key("What is (are) Heart Attack ?") == question_key("What is heart attack?")
    assert question_key("What is heart attack?") != question_key("What causes heart attack?")


def test_every_nih_title_is_clean():
    require_shared(MEDQUAD)
    titles = [json.loads(line)["title"] for line in MEDQUAD.read_text("utf-8").splitlines() if line.strip()]
    assert len(titles) == 954
    dirty = [t for t in map(display_title, titles) if "(are)" in t or " ?" in t or "? ?" in t or "??" in t]
    assert dirty == []
