import pytest

from indexer.sources import load_corpus
from tests.conftest import MEDQUAD, require_shared


@pytest.fixture(scope="session")
def nih_corpus():
    """The 954 NIH entries as imported (repaired); skipped without ../shared."""
    require_shared(MEDQUAD)
    corpus = load_corpus([MEDQUAD])
    assert not corpus.errors, corpus.errors[:3]
    return corpus
