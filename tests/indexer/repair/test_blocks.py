"""indexer.repair.blocks: headings, list items and prose told apart."""
from indexer.repair.blocks import structure


def kinds(text):
    return [(b.kind, b.text) for b in structure(text)]


def test_a_heading_and_a_subheading_before_prose_are_headings():
    # NHLBI-0000066-1
    text = ("This can make your heart work harder.\n\nOverview\n\nHow the Heart Valves Work\n\n"
            "At the start of each heartbeat, blood returning from the body fills the atria.")
    assert kinds(text) == [("prose", "This can make your heart work harder."), ("heading", "Overview"),
                           ("heading", "How the Heart Valves Work"),
                           ("prose", "At the start of each heartbeat, blood returning from the body fills the atria.")]


def test_a_caption_between_paragraphs_is_read_as_a_heading_not_prose():
    # NHLBI-0000091-1: "Normal Mitral Valve" is an image caption
    text = "(Palpitations are feelings.)\n\nNormal Mitral Valve\n\nThe mitral valve controls blood flow."
    assert kinds(text)[1] == ("heading", "Normal Mitral Valve")


def test_runs_of_short_blocks_and_blocks_after_a_colon_are_list_items():
    # NHLBI-0000004-3 and NHLBI-0000031-6
    run = "Triggers include:\n\nSmoking\n\nHeavy meals\n\nEmotional stress\n\nAny of these can cause angina."
    assert [k for k, _ in kinds(run)] == ["prose", "item", "item", "item", "prose"]
    listed = "Stress can:\n\nRelaxation therapy\n\nYou should try to relax."
    assert [k for k, _ in kinds(listed)] == ["prose", "item", "prose"]
    commas = "Eat more.\n\nFruits, such as apples\n\nWhen following a heart-healthy diet, eat less."
    assert [k for k, _ in kinds(commas)] == ["prose", "item", "prose"]


def test_a_short_block_at_the_end_is_not_a_heading():
    assert kinds("MVP is common.\n\nMitral Valve Prolapse")[-1] == ("item", "Mitral Valve Prolapse")
