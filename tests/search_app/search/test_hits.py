"""search_app.search.hits: which passage of an article is shown."""
import numpy as np

from search_app.search.hits import best_passages, stem_counts


def choose(ranges, stems, sims, query_stems, bonus=0.1):
    ids = [pid for r in ranges for pid in r]
    scores = np.array([sims.get(pid, 0.0) for pid in ids]) + \
        bonus * stem_counts([stems.get(pid, "") for pid in ids], query_stems)
    return best_passages(ranges, scores)


def test_the_closest_passage_wins_unless_another_has_more_of_the_query_words():
    stems = {1: " heart valv leak ", 2: " blood pressur ", 3: " valv "}
    sims = {1: 0.50, 2: 0.58, 3: 0.52}
    assert choose([[1, 2, 3]], stems, sims, set()) == [2]                 # no words asked: similarity alone
    assert choose([[1, 2, 3]], stems, sims, {"valv", "leak"}) == [1]      # 0.50 + 2 x 0.1 beats 0.58


def test_only_whole_stems_count_ties_go_to_the_earliest_and_articles_are_chosen_apart():
    stems = {4: " valvular heart ", 5: " valv heart ", 6: " murmur ", 7: " valv "}
    sims = {4: 0.5, 5: 0.5, 6: 0.9, 7: 0.1}
    assert choose([[4, 5]], stems, sims, {"valv"}) == [5]                 # "valv" is not "valvular"
    assert choose([[4, 5]], stems, sims, {"heart"}) == [4]                # both have it: the earlier one
    assert choose([[4, 5], [6, 7], []], stems, sims, {"valv"}) == [5, 6, None]


def test_the_counts_count_each_stem_once_per_passage_and_take_stems_literally():
    counts = stem_counts([" heart heart valv ", " a+b aab ", " hearts valve ", "", " valv"], {"a+b", "heart", "valv"})
    assert counts.tolist() == [2, 1, 0, 0, 0]     # the last has no closing space: a malformed string matches nothing
    assert stem_counts([], {"x"}).tolist() == [] and stem_counts([" x "], set()).tolist() == [0]


def test_on_the_nih_index_the_shown_passage_is_the_best_by_full_records(medquad_searcher):
    """The short cut (stems and vectors only, one scan) chooses what scoring
    every passage's full record one by one chooses."""
    live = medquad_searcher
    generation, searcher = live.generation, live.searcher
    bonus = searcher.settings.word_match_bonus
    for query in ["leaky heart valve", "why do my ankles swell", "is marfan syndrome inherited",
                  "water pills for a weak heart"]:
        result = live.search(query, k=10)
        vector = live.index.embedder_for(generation).encode([result.plan.corrected])[0]
        for hit in result.hits:
            records = generation.article_passages(hit.passage.article_id)
            def full_score(r):
                return float(generation.passage_vectors([r.id])[0] @ vector) + \
                    bonus * len(r.text_stems & result.plan.highlight_stems), -r.id
            assert hit.passage.id == max(records, key=full_score).id, (query, hit.passage.article_id)
