"""Fusion on synthetic lists: no model, no index."""
from search_app.search.fusion import dense_queries, fused_order, prefer_asked_need, rrf
from search_app.search.settings import RankingSettings


def test_rrf_adds_weighted_reciprocal_ranks():
    fused = rrf([([1, 2, 3], 1.0), ([3, 1], 0.5)], k=5)
    assert fused[1] == 1 / 6 + 0.5 / 7
    assert fused[2] == 1 / 7
    assert fused[3] == 1 / 8 + 0.5 / 6
    assert fused_order(fused) == [1, 3, 2]


def test_an_item_in_one_list_only_still_counts_and_ties_go_to_the_smaller_id():
    fused = rrf([([7], 1.0), ([4], 1.0)], k=10)
    assert fused == {7: 1 / 11, 4: 1 / 11}
    assert fused_order(fused) == [4, 7]


def test_empty_rankings_fuse_to_nothing():
    assert rrf([], k=10) == {} and rrf([([], 1.0)], k=10) == {}


def test_a_zero_weight_list_changes_no_order():
    base = rrf([([1, 2, 3], 1.0)], k=10)
    assert fused_order(rrf([([1, 2, 3], 1.0), ([3, 2, 1], 0.0)], k=10)) == fused_order(base)


def test_dense_queries_add_the_expanded_query_with_its_weight():
    settings = RankingSettings(weight_expanded=0.5)
    assert dense_queries(None, settings) == []
    one = dense_queries([[0.1], [0.2]][:1], settings)
    assert [w for _, w in one] == [1.0]
    two = dense_queries([[0.1], [0.2]], settings)
    assert [w for _, w in two] == [1.0, 0.5]


def test_the_article_answering_the_asked_need_moves_up_within_its_topic_only():
    # articles 0..3: 0 and 2 one topic (family "a"), 1 and 3 others; 2 answers "symptoms"
    need = [None, None, "symptoms", None]
    family = ["a", "b", "a", "c"]
    fused = {0: 0.4, 1: 0.3, 2: 0.2, 3: 0.1}
    ranked = prefer_asked_need([0, 1, 2, 3], {"symptoms"}, fused, need, family)
    assert ranked == [2, 0, 1, 3]
    assert fused[2] == 0.4  # it takes the family's first place's score
    assert prefer_asked_need([1, 3], {"symptoms"}, {1: 0.3, 3: 0.1}, need, family) == [1, 3]
