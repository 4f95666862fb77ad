"""One result per question: the per-generation keys and the collapse."""
from __future__ import annotations

from search_app.search.questions import Questions, collapse


def _questions():
    ids = ["a", None, "b", "c", "d"]
    rows = [(0, "What is (are) Angina ?"), (2, "What is angina?"), (3, "What causes angina?"), (4, "What is angina?")]
    return Questions(ids, rows)


def test_articles_asking_the_same_question_share_a_key():
    q = _questions()
    assert q.key_of("a") == q.key_of("b") == q.key_of("d") != q.key_of("c")
    assert q.members("b") == ["a", "b", "d"] and q.size("c") == 1
    assert q.members("unknown") == [] and q.size("unknown") == 0 and q.key_of("unknown") is None


def test_collapse_keeps_the_best_member_first_and_groups_in_order():
    q = _questions()
    assert collapse([3, 2, 0, 4], q.key) == [[3], [2, 0, 4]]
    assert collapse([0, 3, 4], q.key) == [[0, 4], [3]]


def test_an_article_without_a_key_is_its_own_group():
    q = _questions()
    assert collapse([1, 0], q.key) == [[1], [0]]
    assert collapse([9, 0], q.key) == [[9], [0]]
