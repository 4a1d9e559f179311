"""The sweep's search-space syntax and the best trial's files: parsing, suggesting, one-line errors, round trips."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from radiodiff.config import ConfigError, load
from radiodiff.sweep.best import BestTrial, overrides_text, typed_overrides, write_best_files
from radiodiff.sweep.space import parse_space


@pytest.fixture(scope="module")
def config():
    return load(None)


def test_every_distribution_suggests_within_its_range(config) -> None:
    text = (
        "ldm_train.lr=loguniform(1e-4,3e-3) ldm.channels=choice(16,32) ldm_train.ema_decay=uniform(0.99,0.9999) "
        "vae_train.steps=int(200,800) data.batch_size=logint(2,16) vae.channel_mult=choice([1,2], [1,2,4])"
    )
    space = parse_space(text, config)
    assert space.text() == (
        "ldm_train.lr=loguniform(0.0001,0.003) ldm.channels=choice(16,32) ldm_train.ema_decay=uniform(0.99,0.9999) "
        "vae_train.steps=int(200,800) data.batch_size=logint(2,16) vae.channel_mult=choice([1,2],[1,2,4])"
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    seen_mults = set()
    for _ in range(20):
        trial = study.ask()
        values = space.suggest(trial)
        assert 1e-4 <= values["ldm_train.lr"] <= 3e-3 and 0.99 <= values["ldm_train.ema_decay"] <= 0.9999
        assert values["ldm.channels"] in (16, 32) and 200 <= values["vae_train.steps"] <= 800
        assert isinstance(values["vae_train.steps"], int) and 2 <= values["data.batch_size"] <= 16
        seen_mults.add(tuple(values["vae.channel_mult"]))
        assert config.with_overrides(values).vae.channel_mult == tuple(values["vae.channel_mult"])
        study.tell(trial, 0.0)
        assert space.overrides_of(study.trials[-1].params) == values  # a list choice comes back as the list
    assert seen_mults == {(1, 2), (1, 2, 4)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'sweep needs a search space: -P space="ldm_train.lr=loguniform(1e-4,3e-3) ..." (see README, Sweeps)'),
        ("ldm_train.lrr=loguniform(1e-4,3e-3)", "sweep space: unknown config key 'ldm_train.lrr': did you mean 'lr'?"),
        ("ldm_trian.lr=uniform(0.1,0.2)", "sweep space: unknown config key 'ldm_trian': did you mean 'ldm_train'?"),
        ("ldm_train.lr", "sweep space item 'ldm_train.lr': expected key.sub=distribution(args), e.g. "
         "ldm_train.lr=loguniform(1e-4,3e-3)"),
        ("ldm_train.lr=normal(0,1)", "sweep space 'ldm_train.lr': unknown distribution 'normal'; choose one of "
         "uniform, loguniform, int, logint, choice"),
        ("ldm_train.lr=uniform(0.1)", "sweep space 'ldm_train.lr': uniform(low,high) takes 2 values, got 1"),
        ("ldm_train.lr=uniform(a,1)", "sweep space 'ldm_train.lr': uniform() bound 'a' is not a number"),
        ("ldm_train.lr=uniform(0.2,0.1)", "sweep space 'ldm_train.lr': uniform(0.2,0.1) needs low < high"),
        ("ldm_train.lr=loguniform(0,0.1)", "sweep space 'ldm_train.lr': loguniform(0,0.1) needs low > 0"),
        ("ldm.channels=int(8,16.5)", "sweep space 'ldm.channels': int() bound '16.5' is not an integer"),
        ("ldm_train.lr=uniform(-1,1)", "sweep space: ldm_train.lr = -1.0 is out of range; allowed: > 0"),
        ("ldm.channels=uniform(16,32)", "sweep space: ldm.channels = 16.0: expected an integer"),
        ("ldm.channels=choice()", "sweep space 'ldm.channels': choice() needs at least one value"),
        ("ldm=choice(1,2)", "sweep space 'ldm': a section, not a key; name one of its keys"),
        ("ldm.channels=choice(16) ldm.channels=choice(32)", "sweep space: 'ldm.channels' is given twice"),
    ],
)  # fmt: skip
def test_bad_space_is_one_line_naming_the_key(config, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_space(text, config)
    assert str(caught.value) == message


def test_best_files_load_as_configs(config, tmp_path: Path) -> None:
    base = config.with_overrides({"vae.channels": 16, "vae_train.steps": 40})
    overrides = typed_overrides(base, {"vae_train.lr": "1e-3", "vae.channel_mult": [1, 2], "data.crop_size": None})
    assert overrides == {"vae_train.lr": 0.001, "vae.channel_mult": [1, 2], "data.crop_size": None}
    assert overrides_text(overrides) == "vae_train.lr=0.001 vae.channel_mult=[1,2] data.crop_size=null"
    best = BestTrial("train_vae-abc", 3, "val/rmse", 0.0712, "RUN", overrides)
    overrides_file, config_file = write_best_files(tmp_path, best, base, "train_vae")

    swept = load(overrides_file)
    assert (swept.vae_train.lr, swept.vae.channel_mult, swept.vae.channels) == (0.001, (1, 2), load(None).vae.channels)
    whole = load(config_file)
    assert whole == base.with_overrides(overrides)
    assert load(None, overrides_text(overrides)) == load(None, overrides)  # the printed --overrides string
    assert "trial 3, val/rmse = 0.0712 (run RUN)" in overrides_file.read_text().splitlines()[0]
