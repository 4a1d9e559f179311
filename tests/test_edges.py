"""Edge maps of radio maps: the detectors on a synthetic step, and the `derive_edges` data root writer."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from fixtures_radiomapseer import write_radiomapseer

from radiodiff.cli import main
from radiodiff.config_schema import ConfigError
from radiodiff.data.edge_dataset import EDGES_FILE, write_edge_dataset
from radiodiff.data.edges import EDGE_METHODS, edge_map
from radiodiff.data.layout import index_radiomapseer
from radiodiff.data.png_io import read_grey_png

STEP = 150  # grey levels between the two halves of the synthetic map


def _step_map() -> np.ndarray:
    """32 x 32: 50 left of column 16, 200 from column 16 on (one vertical step)."""
    grey = np.full((32, 32), 50, np.uint8)
    grey[:, 16:] = 50 + STEP
    return grey


@pytest.mark.parametrize("method", EDGE_METHODS)
def test_edges_lie_on_the_step_and_nowhere_else(method: str) -> None:
    edges = edge_map(_step_map(), method)
    assert edges.dtype == np.uint8 and edges.shape == (32, 32)
    assert np.all(edges[:, :14] == 0) and np.all(edges[:, 18:] == 0)  # flat areas: no edge
    assert np.all(edges[:, 14:18].max(axis=1) > 0)  # every row has an edge at the step
    assert not np.any(edge_map(np.full((16, 16), 77, np.uint8), method))  # flat map, border included


@pytest.mark.parametrize("method", ["sobel", "prewitt", "laplacian"])
def test_gradient_detectors_read_the_step_height(method: str) -> None:
    edges = edge_map(_step_map(), method)
    assert edges[:, 15].tolist() == [STEP] * 32 and edges[:, 16].tolist() == [STEP] * 32


def test_canny_is_binary() -> None:
    assert set(np.unique(edge_map(_step_map(), "canny")).tolist()) == {0, 255}


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"uint8 \(H, W\), got float64 of shape \(4, 4\)"):
        edge_map(np.zeros((4, 4)), "sobel")
    with pytest.raises(ConfigError, match="edge method 'sobol' is not known; did you mean 'sobel'"):
        edge_map(_step_map(), "sobol")


def test_derive_edges_keeps_layout_and_names(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    write_radiomapseer(src, maps=2, tx=2, size=32, simulations=("DPM", "IRT2"), cars=True)

    summary = write_edge_dataset(src, dst, "laplacian", "DPM", progress=False)

    names = sorted(p.name for p in (src / "gain/DPM").iterdir())
    assert sorted(p.name for p in (dst / "gain/DPM").iterdir()) == names
    assert not (dst / "gain/IRT2").exists() and (dst / EDGES_FILE).is_file()
    inputs = sorted(p.relative_to(src) for p in (src / "png").rglob("*.png"))
    assert sorted(p.relative_to(dst) for p in (dst / "png").rglob("*.png")) == inputs
    assert all(os.path.samefile(src / p, dst / p) for p in inputs)  # hard links on one file system
    for name in names:
        expected = edge_map(read_grey_png(src / "gain/DPM" / name), "laplacian")
        assert np.array_equal(read_grey_png(dst / "gain/DPM" / name), expected)
    assert (summary.edge_maps, summary.linked, summary.copied) == (4, len(inputs), 0)
    assert len(index_radiomapseer(dst, "DPM", "dynamic").pairs) == 4  # DST is a valid data root
    write_edge_dataset(src, dst, "sobel", "DPM", progress=False)  # writing again replaces, links stay


def test_derive_edges_command_and_its_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    write_radiomapseer(src, maps=1, tx=2, size=32)
    base = ["derive_edges", "--data_dir", str(src), "--out_dir", str(dst)]

    assert main([*base, "--method", "cany"]) == 2
    assert capsys.readouterr().err.strip() == (
        "radiodiff derive_edges: error: edge method 'cany' is not known; did you mean 'canny'? "
        "choose one of canny, sobel, laplacian, prewitt"
    )
    assert not dst.exists()
    assert main([*base, "--simulation", "IRT2"]) == 2
    assert capsys.readouterr().err.strip().endswith("gain/IRT2: simulation folder not found; available: DPM")
    assert main(["derive_edges", "--data_dir", str(src), "--out_dir", str(src)]) == 2
    assert "is the source data root" in capsys.readouterr().err

    assert main([*base, "--method", "prewitt"]) == 0
    assert sorted(p.name for p in (dst / "gain/DPM").iterdir()) == ["0_0.png", "0_1.png"]
