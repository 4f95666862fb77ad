"""The need read by the model: the regression, the centring by family and
the reader, on vectors made by hand (no model)."""
import numpy as np

from search_app.evaluation.need_model import NONE, ModelNeeds, SoftmaxRegression, centred_by_family


def test_the_regression_learns_separable_classes_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal([3, 0], 0.3, (30, 2)), rng.normal([-3, 0], 0.3, (30, 2)),
                   rng.normal([0, 3], 0.3, (30, 2))])
    labels = ["symptoms"] * 30 + ["treatment"] * 30 + [NONE] * 30
    model = SoftmaxRegression(10.0).fit(x, labels)
    predicted = [model.classes[i] for i in model.probabilities(x).argmax(axis=1)]
    assert predicted == labels
    assert np.allclose(model.probabilities(x).sum(axis=1), 1.0)
    again = SoftmaxRegression(10.0).fit(x, labels)
    assert np.array_equal(model.weights, again.weights)


def test_a_weaker_penalty_gives_more_confident_probabilities():
    x = np.array([[1.0, 0.0], [-1.0, 0.0]])
    strong = SoftmaxRegression(0.1).fit(x, ["a", "b"]).probabilities(x).max()
    weak = SoftmaxRegression(10.0).fit(x, ["a", "b"]).probabilities(x).max()
    assert 0.5 < strong < weak < 1.0


def test_centring_removes_what_a_family_shares_and_zeroes_a_family_of_one():
    topic = np.array([5.0, 5.0, 0.0])
    vectors = np.array([topic + [0, 0, 1], topic + [0, 0, -1], [9.0, 9.0, 9.0], [1.0, 2.0, 3.0]])
    centred = centred_by_family(vectors, ["angina", "angina", "alone", None])
    assert np.allclose(centred[0], [0, 0, 1]) and np.allclose(centred[1], [0, 0, -1])
    assert np.allclose(centred[2], 0.0)
    assert np.allclose(centred[3], vectors[3])       # no family: left as it is


def test_the_reader_names_needs_over_the_threshold_never_none_and_can_add_the_cues():
    model = SoftmaxRegression(10.0).fit(np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]),
                                        ["symptoms", "treatment", NONE])
    assert ModelNeeds(model, 0.5)("anything", np.array([2.0, 0.0])) == {"symptoms"}
    assert ModelNeeds(model, 0.5)("anything", np.array([0.0, 2.0])) == set()      # "none" is not a need
    assert ModelNeeds(model, 0.999)("anything", np.array([2.0, 0.0])) == set()
    joined = ModelNeeds(model, 0.5, with_cues=True)("how is it diagnosed", np.array([2.0, 0.0]))
    assert joined == {"symptoms", "diagnosis"}
