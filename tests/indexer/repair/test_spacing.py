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
