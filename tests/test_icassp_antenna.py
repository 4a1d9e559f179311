"""The antenna channel and the multi-wall model against closed forms: FSPL slope, wall losses, antenna lobes."""

from __future__ import annotations

import numpy as np
import pytest

from radiodiff.data.icassp.antenna import antenna_channel_db, free_space_baseline_db, fspl_db
from radiodiff.data.icassp.layout import ANTENNA_IDS
from radiodiff.data.icassp.multiwall import crossed_wall_loss_db, multiwall_pathloss_db, wall_loss_scale
from radiodiff.data.icassp.patterns import ANTENNAS, pattern_gains

ISOTROPIC = pattern_gains(ANTENNAS[1])


def test_fspl_matches_the_closed_form_and_is_clamped_at_one_pixel() -> None:
    assert fspl_db(np.array(1.0), 1000.0) == pytest.approx(60.0 - 27.55)
    assert fspl_db(np.array(0.0), 868.0) == pytest.approx(20 * np.log10(0.25) + 20 * np.log10(868.0) - 27.55)


def test_an_empty_hall_falls_20_db_per_decade() -> None:
    hall = np.zeros((8, 420), np.uint8)
    loss = multiwall_pathloss_db(hall, 4, 0, 0.0, ISOTROPIC, 3500.0)
    assert loss[4, 400] - loss[4, 40] == pytest.approx(20.0, abs=1e-4)
    assert loss[4, 40] - loss[4, 4] == pytest.approx(20.0, abs=1e-4)
    assert loss[4, 4] == pytest.approx(fspl_db(np.array(1.0), 3500.0), abs=1e-4)  # 4 px = 1 m


def test_each_wall_crossed_costs_its_loss_once() -> None:
    hall = np.zeros((30, 60), np.uint8)
    hall[:, 20:22] = 12  # a thick concrete wall (2 px) counts once
    hall[:, 40] = 3  # a plasterboard wall
    walls = crossed_wall_loss_db(hall, 15, 5)
    assert walls[15, 10] == 0 and walls[15, 30] == 12 and walls[15, 50] == 15 and walls[2, 58] == 15
    loss = multiwall_pathloss_db(hall, 15, 5, 0.0, ISOTROPIC, 868.0)
    free = antenna_channel_db(hall.shape, 15, 5, 0.0, ISOTROPIC, 868.0)
    assert loss[15, 50] - free[15, 50] == pytest.approx(15 * wall_loss_scale(868.0), abs=1e-4)
    assert wall_loss_scale(1800.0) == 1.0 and wall_loss_scale(3500.0) > 1.0 > wall_loss_scale(868.0)


def test_a_diagonal_ray_does_not_slip_through_a_one_pixel_wall() -> None:
    room = np.zeros((101, 101), np.uint8)
    room[:, 50] = 7
    walls = crossed_wall_loss_db(room, 3, 3)
    assert np.all(walls[:, 51:] == 7) and np.all(walls[:, :50] == 0)


def test_a_directional_antenna_is_weaker_behind_than_in_front() -> None:
    spec = ANTENNAS[2]
    pattern = pattern_gains(spec)
    channel = antenna_channel_db((41, 41), 20, 20, 0.0, pattern, 1800.0)
    front, back = channel[20, 35], channel[20, 5]
    assert back - front == pytest.approx(spec.front_to_back_db, abs=1e-4)
    diagonal = antenna_channel_db((41, 41), 20, 20, 45.0, pattern, 1800.0)[30, 30]  # boresight on the diagonal
    off_axis = channel[30, 30] - diagonal  # 45 degrees off the boresight: 12 (45 / 65)^2 dB weaker
    assert off_axis == pytest.approx(12 * (45 / spec.beamwidth_deg) ** 2, abs=1e-4)
    assert channel[30, 30] < channel[10, 10]  # 45 degrees in front beats 135 degrees behind
    turned = antenna_channel_db((41, 41), 20, 20, 90.0, pattern, 1800.0)  # azimuth 90: boresight along +row
    assert turned[35, 20] == pytest.approx(front, abs=1e-4)


def test_the_five_patterns_differ_and_ant1_is_isotropic() -> None:
    assert tuple(ANTENNAS) == ANTENNA_IDS
    gains = {a: pattern_gains(spec) for a, spec in ANTENNAS.items()}
    assert np.ptp(gains[1]) == 0
    for a in ANTENNA_IDS[1:]:
        assert gains[a].argmax() == 0 and gains[a][180] == pytest.approx(gains[a][0] - ANTENNAS[a].front_to_back_db)
    assert len({tuple(np.round(g, 3)) for g in gains.values()}) == len(ANTENNA_IDS)


def test_the_baseline_is_the_channel_clipped_to_the_output_range() -> None:
    pattern = pattern_gains(ANTENNAS[4])
    channel = antenna_channel_db((300, 40), 150, 20, 45.0, pattern, 3500.0, metres_per_pixel=5000.0)
    baseline = free_space_baseline_db((300, 40), 150, 20, 45.0, pattern, 3500.0, metres_per_pixel=5000.0)
    assert channel.max() > 160 and baseline.max() == 160 and baseline.min() >= 0
    inside = channel <= 160
    np.testing.assert_array_equal(baseline[inside], channel[inside])
