"""indexer.repair.spacing: the space lost after a comma between words."""
from indexer.models import Repair
from indexer.repair.spacing import repair


def test_a_comma_glued_to_the_next_word_gets_its_space():
    # NHLBI-0000066-1
    text = "The heart has four valves: the tricuspid, pulmonary, mitral,and aortic valves."
    assert repair(text) == ("The heart has four valves: the tricuspid, pulmonary, mitral, and aortic valves.",
                            [Repair("spacing", "mitral,and", "mitral, and")])


def test_numbers_and_names_keep_their_commas():
    text = "Eat 1,200 calories a day. N,N-dimethylglycine. See www.a.gov/x,y."
    assert repair(text) == (text, [])


def test_a_sentence_glued_to_the_next_gets_its_space():
    # NHLBI-0000058-1
    text = "Chest pain or discomfort.Most heart attacks involve discomfort."
    assert repair(text) == ("Chest pain or discomfort. Most heart attacks involve discomfort.",
                            [Repair("spacing", "discomfort.Most", "discomfort. Most")])


def test_abbreviations_and_addresses_keep_their_stops():
    text = "Made in the U.S.A. by Dr.Smith; see www.nhlbi.nih.gov/Health or Health.gov.Then go."
    assert repair(text) == (text, [])
