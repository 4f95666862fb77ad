"""More from this article: in order, the overlap not repeated, the shown passage marked."""
from __future__ import annotations

import json

from indexer.index import PassageRecord
from search_app.pages.more import article_text, in_order, without_overlap


def _passage(pid: int, position: int, sentences: list[str]) -> PassageRecord:
    fields = dict(id=pid, article_id="a", position=position, text=" ".join(sentences),
                  sentences_json=json.dumps(sentences), article_title="T", article_kind="article",
                  article_url=None, author=None, credentials=None, source=None, page_id=None, passage_count=3)
    names = set(PassageRecord.__dataclass_fields__)
    return PassageRecord(**{k: v for k, v in fields.items() if k in names})


def test_leading_sentences_repeating_the_end_of_the_passage_before_are_dropped():
    assert without_overlap(["A.", "B."], ["B.", "C."]) == ("C.",)
    assert without_overlap(["A.", "B.", "C."], ["B.", "C.", "D."]) == ("D.",)
    assert without_overlap(["A."], ["B."]) == ("B.",)
    assert without_overlap([], ["B."]) == ("B.",)


def test_passages_in_order_with_the_shown_one_marked_at_its_place():
    p0, p1, p2 = _passage(10, 0, ["A.", "B."]), _passage(11, 1, ["B.", "C."]), _passage(12, 2, ["C.", "D."])
    readings = in_order([p2, p0, p1], shown_id=11)
    assert [r.position for r in readings] == [1, 2, 3]
    assert [r.shown for r in readings] == [False, True, False]
    # B. ends the first passage and starts the shown one: read once, above.
    assert [r.sentences for r in readings] == [("A.",), ("C.",), ("D.",)]
    assert article_text([p1, p2, p0]) == ["A.", "B.", "C.", "D."]


def test_a_passage_saying_nothing_new_is_kept_at_its_place():
    readings = in_order([_passage(1, 0, ["A.", "B."]), _passage(2, 1, ["B."])])
    assert readings[1].repeats_only and readings[1].position == 2


def test_the_passage_before_the_shown_one_drops_what_the_shown_one_repeats():
    first = _passage(10, 0, ["A.", "B.", "C."])
    shown = _passage(11, 1, ["C.", "D."])
    readings = in_order([first, shown], shown_id=shown.id)
    assert readings[0].sentences == ("A.", "B.") and readings[1].shown
