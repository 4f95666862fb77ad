"""The cross-validated grid (no model)."""
from search_app.evaluation.grid import GRID, MODE_KNOBS, describe, grid_points, settings_at, shipped_point
from search_app.search.settings import RankingSettings

SHIPPED = RankingSettings()


def test_the_shipped_settings_come_first_and_every_point_once():
    for mode in MODE_KNOBS:
        points = grid_points(mode, SHIPPED)
        assert points[0] == shipped_point(mode, SHIPPED)
        assert len(points) == len(set(points))
        assert settings_at(points[0], SHIPPED) == SHIPPED


def test_each_mode_varies_only_the_knobs_that_can_move_it():
    assert len(grid_points("hybrid", SHIPPED)) == 4 * 3 * 3 * 3
    assert len(grid_points("dense", SHIPPED)) == 4 * 3 * 3
    assert grid_points("lexical", SHIPPED) == [()] and describe(()) == "(no knob)"


def test_a_shipped_value_off_the_grid_is_added():
    odd = RankingSettings(rrf_k=7.0)
    points = grid_points("dense", odd)
    assert points[0][0] == ("rrf_k", 7.0)
    assert len(points) == (len(GRID["rrf_k"]) + 1) * 3 * 3
    assert settings_at((("rrf_k", 20.0),), odd).rrf_k == 20.0
