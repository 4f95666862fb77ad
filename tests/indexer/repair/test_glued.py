"""indexer.repair.glued: glued words split only on the lexicon's evidence."""
import pytest

from indexer.models import Repair
from indexer.repair.glued import repair, split_point
from indexer.repair.lexicon import load_lexicon


@pytest.mark.parametrize("glued, split", [
    ("congenitalheart", "congenital heart"),   # NHLBI-0000066-1
    ("topalpitations", "to palpitations"),     # NHLBI-0000091-1
    ("Worksarticle", "Works article"),         # NHLBI-0000091-1
    ("TopicsHow", "Topics How"),               # NHLBI-0000091-1
    ("itcan", "it can"),                       # NHLBI-0000091-1
    ("haveanemia", "have anemia"),
])
def test_glued_words_from_the_nih_texts_are_split(glued, split):
    assert repair(f"This is {glued} here.") == (f"This is {split} here.", [Repair("glued", glued, split)])


@pytest.mark.parametrize("word", [
    "overweight", "buildup", "heartbeats", "backflow", "painless", "secondhand",  # compounds the corpus uses
    "youre", "dont", "hearts", "doesnt",                                          # apostrophes the source lost
    "today", "together", "another", "cardiomyopathy", "palpitations",
])
def test_words_are_not_split(word):
    assert split_point(word, load_lexicon()) is None


def test_web_addresses_and_hyphenated_words_are_left_alone():
    text = "See http://www.nih.gov/health/clinicaltrials/ or write to info@heartdisease.org about heart-lung work."
    assert repair(text) == (text, [])
