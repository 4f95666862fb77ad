"""indexer.repair.bullets: flattened lists back to one item a line."""
from indexer.repair.bullets import repair


def test_a_flattened_list_becomes_one_item_a_line():
    # MPlusHealthTopics-0000915-1
    text = ("Factors that can raise your triglyceride level include - Being overweight - Lack of physical "
            "activity - Smoking")
    fixed, (change,) = repair(text)
    assert fixed == ("Factors that can raise your triglyceride level include\n- Being overweight\n"
                     "- Lack of physical activity\n- Smoking")
    assert (change.kind, change.before, change.after) == ("list", text, fixed)


def test_one_dash_after_a_colon_is_a_list_and_one_in_prose_is_a_dash():
    # GHR-0000687-5
    listed = "These resources address the diagnosis or management of VMCM: - Gene Review: Gene Review"
    assert repair(listed)[0] == ("These resources address the diagnosis or management of VMCM:\n"
                                 "- Gene Review: Gene Review")
    prose = "Nicotinic acid - lowers LDL (bad) cholesterol and triglycerides."
    assert repair(prose) == (prose, [])


def test_ranges_and_other_paragraphs_are_left_alone():
    text = "Take 5 - 10 mg.\n\nOther symptoms may include - sweating - nausea"
    fixed, changes = repair(text)
    assert fixed == "Take 5 - 10 mg.\n\nOther symptoms may include\n- sweating\n- nausea"
    assert len(changes) == 1
