"""indexer.repair.lexicon: the frozen lexicon, and that it is what the
committed corpus gives."""
import pytest

from indexer.repair.__main__ import corpus_texts
from indexer.repair.lexicon import KNOWN, LEXICON_PATH, build_lexicon, load_lexicon, write_lexicon
from tests.conftest import MEDQUAD, PROJECT_ROOT, require_shared


def test_a_lexicon_counts_common_words_pairs_and_splittable_words(tmp_path):
    texts = ["The heart and the heart valves. Heart valves, heart valves, heart valves!"] * 5 + ["heartvalves"]
    lexicon = build_lexicon(texts, ["the", "heart", "valves", "and", "heartvalves", "##s"])
    assert lexicon.common == {"the", "heart", "valves", "and"}
    assert lexicon.pairs[("heart", "valves")] == 20
    assert lexicon.seen["heartvalves"] == KNOWN  # a word of the vocabulary is never split
    write_lexicon(lexicon, tmp_path / "lexicon.tsv.gz")
    assert load_lexicon(tmp_path / "lexicon.tsv.gz") == lexicon


@pytest.mark.slow  # the shared NIH corpus
def test_the_committed_lexicon_is_the_one_the_corpus_and_the_model_give(tmp_path):
    """Regenerate with `python -m indexer.repair ../shared/corpora/medquad-heart.jsonl corpus`."""
    require_shared(MEDQUAD)
    from indexer.embedding.registry import DEFAULT_MODEL, model_spec
    lexicon = build_lexicon(corpus_texts([MEDQUAD, PROJECT_ROOT / "corpus"]), model_spec(DEFAULT_MODEL).read_vocabulary())
    write_lexicon(lexicon, tmp_path / "again.tsv.gz")
    assert (tmp_path / "again.tsv.gz").read_bytes() == LEXICON_PATH.read_bytes()
