"""The protocol end to end on a fake bench whose rankings follow known rules
(no model, no index): the glossary entry "water pills" lifts the right entry
one place, "clogged arteries" drops it one place, the treatment cue lifts
it one place, rrf_k = 20 lifts every query one place."""
import pytest

from search_app.evaluation.components import Family, Piece, kept_for_fold, piece_per_fold, verdict
from search_app.evaluation.metrics import EvalQuery
from search_app.evaluation.protocol import run_protocol
from search_app.evaluation.report import ablations_table, components_table, picks_table, pieces_table, summary_table
from search_app.search.glossary import Glossary, GlossaryEntry
from search_app.search.intent import only_cue_lists, query_needs
from search_app.search.settings import RankingSettings

QUERIES = [EvalQuery("q1", "water pills and swelling", ("A-1",)),
           EvalQuery("q2", "how to treat clogged arteries", ("B-1",)),
           EvalQuery("q3", "water pills side effects", ("C-1",)),
           EvalQuery("q4", "treatment for a racing heart", ("D-1",)),
           EvalQuery("q5", "clogged arteries in the legs", ("E-1",)),
           EvalQuery("q6", "what is a heart murmur", ("F-1", "F-2"))]


class FakeBench:
    settings = RankingSettings()
    glossary = Glossary.from_entries([GlossaryEntry("water pills", ("diuretics",), "drug"),
                                      GlossaryEntry("clogged arteries", ("atherosclerosis",), "condition"),
                                      GlossaryEntry("never typed", ("nothing",), "condition")])

    def plan(self, query, settings, glossary):
        return type("Plan", (), {"corrected": query})()

    def groups(self, query, mode, settings=None, glossary=None, k=10):
        settings = settings or self.settings
        glossary = self.glossary if glossary is None else glossary
        lays = [lay for lay, _ in glossary.expansions(query)] if settings.query.glossary else []
        rank = 4 - ("water pills" in lays) + ("clogged arteries" in lays)
        rank -= settings.prefer_asked_need and "treatment" in query_needs(query)
        rank -= mode != "lexical" and settings.rrf_k == 20.0
        target = next(q.relevant[0] for q in QUERIES if q.query == query)
        ranked = [[f"X{i}-1"] for i in range(10)]
        ranked.insert(rank - 1, [target])
        return ranked[:k]


@pytest.fixture(scope="module")
def protocol():
    full = {m: {q.qid: 0.25 for q in QUERIES} for m in ("dense", "lexical", "hybrid", "default")}
    return run_protocol(FakeBench(), QUERIES, ("dense", "lexical", "hybrid", "default"), full, folds=3,
                        need_model=False)


def test_the_grid_picks_what_the_train_folds_favour(protocol):
    hybrid = protocol.modes["hybrid"]
    assert all(dict(p.picked)["rrf_k"] == 20.0 for p in hybrid.cv.picks)
    assert hybrid.points == 108 and protocol.modes["lexical"].points == 1
    assert protocol.modes["default"].cv == hybrid.cv and protocol.modes["default"].mode == "default"
    assert hybrid.cv.mean > sum(hybrid.shipped) / 3


def test_the_short_cut_check_counts_agreement_with_the_full_search(protocol):
    # the full search was given 0.25 (rank 4) for every query: only the queries ranked 4th agree,
    # q6 (no glossary entry, no cue) and q2 (one entry down, the cue up)
    assert protocol.modes["lexical"].fast_path_agrees == 2


def test_each_piece_is_judged_by_the_folds_it_fires_on(protocol):
    family = protocol.modes["hybrid"].components["glossary entry"].family
    names = {p.name: p for p in family.pieces}
    assert set(names) == {"water pills", "clogged arteries"}      # "never typed" never fires
    assert names["water pills"].fires == ("q1", "q3")
    assert all(d > 0 for d in names["water pills"].effect.values())
    assert all(d < 0 for d in names["clogged arteries"].effect.values())
    sizes = [len(f) for f in protocol.folds]
    water = piece_per_fold(names["water pills"], protocol.fold_of, sizes)
    assert verdict(water) == ("helps on 2+ folds" if len(water) > 1 else "helps on 1 fold only")
    assert verdict(piece_per_fold(names["clogged arteries"], protocol.fold_of, sizes)) == "hurts"
    cues = {p.name for p in protocol.modes["hybrid"].components["cue list"].family.pieces}
    assert cues == {"treatment"}


def test_pruning_reads_the_other_folds_only():
    fold_of = {"a": 0, "b": 1, "c": 2}
    pieces = (Piece("only-on-0", ("a",), {"a": 0.5}), Piece("hurts-on-0", ("a",), {"a": -0.5}),
              Piece("everywhere", ("a", "b", "c"), {"a": 0.1, "b": 0.1, "c": 0.1}))
    family = Family("glossary entry", pieces, run=None, all_on={})
    # Scoring fold 0: the evidence of fold 0 itself must not count.
    assert kept_for_fold(family, fold_of, 0, "drop-hurting") == frozenset()
    assert kept_for_fold(family, fold_of, 0, "keep-helping") == {"only-on-0", "hurts-on-0"}
    assert kept_for_fold(family, fold_of, 1, "drop-hurting") == {"hurts-on-0"}
    assert kept_for_fold(family, fold_of, 1, "keep-helping") == {"hurts-on-0"}


def test_the_variants_per_fold(protocol):
    glossary = protocol.modes["hybrid"].components["glossary entry"].variants
    assert set(glossary) == {"on", "off", "drop-hurting", "keep-helping"}
    assert all(len(v) == 3 for v in glossary.values())
    cues = protocol.modes["hybrid"].components["cue list"].variants
    assert sum(cues["on"]) > sum(cues["off"])   # the treatment cue only ever helps here


def test_the_tables_print(protocol):
    dev_all = {m: 0.25 for m in protocol.modes}
    text = "\n".join([summary_table(protocol, dev_all), picks_table(protocol), components_table(protocol),
                      pieces_table(protocol, "hybrid", "glossary entry", 3), pieces_table(protocol, "hybrid", "cue list")])
    assert "hybrid" in text and "rrf_k=20" in text and "1 of 3 never fire" in text
    assert "clogged arteries" in text and "hurts" in text


def test_only_cue_lists_reads_the_named_lists_and_restores_all():
    query = "how to treat and prevent it"
    assert query_needs(query) == {"treatment", "prevention"}
    with only_cue_lists({"prevention"}):
        assert query_needs(query) == {"prevention"}
    with only_cue_lists(()):
        assert query_needs(query) == set()
    assert query_needs(query) == {"treatment", "prevention"}


def test_each_component_switched_off_per_fold(protocol):
    hybrid = protocol.modes["hybrid"]
    assert set(hybrid.ablations) >= {"lay glossary", "need cues", "BM25 ranking", "spelling correction"}
    assert "BM25 ranking" not in protocol.modes["dense"].ablations   # dense has no BM25 list to drop
    # the fake's treatment cue only helps and its glossary nets out: off means worse, and equal
    assert sum(hybrid.ablations["need cues"]) < sum(hybrid.shipped)
    assert protocol.modes["hybrid"].needs is None                    # need_model=False: not measured
    text = ablations_table(protocol)
    assert "need cues" in text and "(nothing: all on)" in text
