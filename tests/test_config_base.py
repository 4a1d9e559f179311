"""Config files that extend another (`base:`), as the ICASSP pipeline's four configs do."""

from __future__ import annotations

from pathlib import Path

import pytest

from radiodiff.config import ConfigError, load

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_a_file_takes_its_base_sections_and_replaces_only_the_keys_it_sets(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text("data:\n  batch_size: 4\n  tx_radius: 3\nvae:\n  channels: 16\n")
    (tmp_path / "child.yaml").write_text("base: shared/base.yaml\ndata:\n  batch_size: 2\n")
    config = load(tmp_path / "child.yaml")
    assert (config.data.batch_size, config.data.tx_radius, config.vae.channels) == (2, 3, 16)


def test_a_missing_or_circular_base_is_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text("base: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"nowhere\.yaml does not exist \(the base of .*child\.yaml\)"):
        load(tmp_path / "child.yaml")
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ConfigError, match="leads back to itself"):
        load(tmp_path / "a.yaml")


def test_the_icassp_configs_share_one_generated_set_and_differ_in_what_their_vae_learns() -> None:
    configs = {
        n: load(PROJECT_ROOT / f"configs/icassp{n}.yaml") for n in ("", "_vae_radio", "_vae_building", "_vae_antenna")
    }
    assert len({c.generator for c in configs.values()}) == 1
    assert {n: (c.data.target, c.vae.in_channels) for n, c in configs.items()} == {
        "": ("radio", 1),
        "_vae_radio": ("radio", 1),
        "_vae_building": ("building", 2),
        "_vae_antenna": ("antenna", 1),
    }
    assert all(c.data.layout == "icassp" for c in configs.values())
