"""Config loading: every shipped YAML parses; typos and bad values fail with a message naming the key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from radiodiff.config import Config, ConfigError, dump, load, parse_overrides
from radiodiff.config_schema import to_dict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((PROJECT_ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_parses_and_round_trips(path: Path, tmp_path: Path) -> None:
    config = load(path)
    assert isinstance(config, Config)
    assert load(_write(tmp_path / path.name, dump(config))) == config


def test_configs_folder_is_not_empty() -> None:
    assert any(p.name == "default.yaml" for p in CONFIGS)


def test_unknown_key_names_it_and_suggests_the_closest(tmp_path: Path) -> None:
    path = _write(tmp_path / "typo.yaml", "data:\n  bach_size: 4\n")
    with pytest.raises(ConfigError) as err:
        load(path)
    message = str(err.value)
    assert "typo.yaml" in message and "data.bach_size" in message and "batch_size" in message
    assert "\n" not in message


def test_unknown_section_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'dta'.*'data'"):
        load(_write(tmp_path / "c.yaml", "dta:\n  batch_size: 4\n"))


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("data.batch_size=0", r"data.batch_size = 0 is out of range; allowed: >= 1"),
        ("data.batch_size=four", r"data.batch_size = 'four': expected an integer"),
        ("data.split=shuffled", r"data.split = 'shuffled' is not allowed; choose one of"),
        ("data.split=random", r"data.split = 'random' is out of range; allowed: on the radiomapseer layout leak_free"),
        ("data.target=building", r"data.target = 'building' is out of range; allowed: on the radiomapseer layout"),
        ("data.image_size=[64]", r"data.image_size = \[64\]: expected a list of 2 values"),
        ("vae_train.lr=-1", r"vae_train.lr = -1.0 is out of range"),
        ("generator.size=8", r"generator.size = 8 is out of range; allowed: 0 \(data.image_size\) or 32 .. 2048"),
        ("tracking.async_logging=maybe", r"tracking.async_logging = 'maybe': expected true or false"),
    ],
)
def test_bad_values_name_key_value_and_allowed(override: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load(overrides=override)


def test_overrides_are_typed_and_win_over_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yaml", "data:\n  batch_size: 4\n")
    config = load(path, "data.batch_size=2 data.image_size=[32,48] data.crop_size=null vae.channel_mult=[1,2]")
    assert config.data.batch_size == 2
    assert config.data.image_size == (32, 48)
    assert config.vae.channel_mult == (1, 2)


def test_exponent_without_a_dot_is_a_number() -> None:
    assert load(overrides="vae_train.lr=1e-3").vae_train.lr == 1e-3  # YAML 1.1 would read a string


def test_no_and_off_are_words_and_only_true_and_false_are_booleans(tmp_path: Path) -> None:
    """YAML 1.2 booleans: `mixed_precision: no` (accelerate's spelling) is the string, in a file and an override."""
    path = _write(tmp_path / "c.yaml", "vae_train:\n  mixed_precision: no\ntracking:\n  system_metrics: false\n")
    config = load(path, "diffusion.sampling_precision=no ldm_train.mixed_precision=no")
    assert config.vae_train.mixed_precision == config.ldm_train.mixed_precision == "no"
    assert config.diffusion.sampling_precision == "no" and config.tracking.system_metrics is False
    with pytest.raises(ConfigError, match=r"tracking\.system_metrics = 'off': expected true or false"):
        load(overrides="tracking.system_metrics=off")


def test_parse_overrides_rejects_pairs_without_equals() -> None:
    with pytest.raises(ConfigError, match="not of the form"):
        parse_overrides("data.batch_size")


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML"):
        load(_write(tmp_path / "bad.yaml", "data: [unclosed\n"))


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml does not exist"):
        load(tmp_path / "nope.yaml")


def test_flat_keys_cover_every_field() -> None:
    config = load()
    flat = config.flat()
    assert flat["data.batch_size"] == config.data.batch_size
    assert len(flat) == sum(len(v) for v in to_dict(config).values())
    assert yaml.safe_load(dump(config)) == to_dict(config)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_built_in_defaults_are_the_default_yaml() -> None:
    assert load(PROJECT_ROOT / "configs/default.yaml") == Config() == load()


def test_a_key_set_alone_keeps_the_rest_of_its_section_at_that_sections_defaults(tmp_path: Path) -> None:
    """`ldm_train` and `vae_train` share one class with two sets of defaults: one key must not reset the others."""
    overridden = load(None, "ldm_train.lr=2e-3 vae_train.steps=10")
    assert overridden.ldm_train == replace(Config().ldm_train, lr=2e-3)
    assert overridden.vae_train == replace(Config().vae_train, steps=10)
    partial = tmp_path / "partial.yaml"
    partial.write_text("unet_train:\n  steps: 20\n")
    assert load(partial).unet_train == replace(Config().unet_train, steps=20)


def test_worker_counts_are_speed_only_and_the_generated_size_follows_the_training_size() -> None:
    assert Config().speed_only_keys() == {"generator.workers", "data.num_workers"}
    assert load(None, "data.image_size=[128,96]").generator.size == 128
    assert load(None, "data.image_size=[128,96] generator.size=256").generator.size == 256


def test_generate_data_and_a_training_job_resolve_the_same_data_root(tmp_path, monkeypatch) -> None:
    from radiodiff.data.generated import default_data_dir

    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    written = load(None, {"generator.size": 128, "generator.maps": 8, "generator.workers": 1})  # -P size=128 maps=8
    trained = load(None, "data.image_size=[128,128] generator.maps=8 generator.workers=2")
    assert default_data_dir(written.generator) == default_data_dir(trained.generator)
