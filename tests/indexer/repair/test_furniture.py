"""indexer.repair.furniture: page-navigation lines dropped, prose untouched."""
from indexer.models import Repair
from indexer.repair.furniture import repair


def test_the_espanol_link_remnant_at_the_start_of_an_nhlbi_text_is_dropped():
    # NHLBI-0000004-1 starts this way.
    text = "Espaol\n\nAngina (an-JI-nuh or AN-juh-nuh) is chest pain or discomfort."
    assert repair(text) == ("Angina (an-JI-nuh or AN-juh-nuh) is chest pain or discomfort.",
                            [Repair("furniture", "Espaol", "")])


def test_the_word_inside_a_sentence_stays():
    text = "The page is also available in Espaol for readers."
    assert repair(text) == (text, [])
