"""Published RadioMapSeer SRM figures (FACTS §3) and the comparison table that sets ours beside them.

The table (the evaluate run's description and its artifact `evaluation/comparison.json`) has one row per
predictor: the free-space baseline, the evaluated model, every compared model, then the published figures. Each row
says the data it was measured on: ours on this evaluation's maps, the published ones on the real RadioMapSeer data
at 256x256, so nobody mistakes a generated-data score for a RadioMapSeer result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from radiodiff.config import Config

# (method, NMSE, RMSE) on RadioMapSeer DPM, static setting, as published (FACTS §3).
PUBLISHED = (
    ("RadioDiff (paper)", 0.0049, 0.0190),
    ("RadioUNet", 0.0074, 0.0244),
    ("RME-GAN", 0.0115, 0.0303),
    ("RMDM", 0.0031, 0.0125),
    ("RadioFlow", 0.0023, 0.0103),
)
PUBLISHED_DATA = "RadioMapSeer DPM 256x256 (published)"
COLUMNS = ("method", "model_uri", "data", "nmse", "rmse", "ssim", "psnr")


@dataclass(frozen=True)
class Row:
    """One predictor's scores on one data set (None: not reported)."""

    method: str
    model_uri: str
    data: str
    nmse: float | None
    rmse: float | None
    ssim: float | None = None
    psnr: float | None = None


def measured_row(method: str, model_uri: str, data: str, scores: dict[str, float]) -> Row:
    """A row of this evaluation from mean scores by metric name (nmse, rmse, ssim, psnr)."""
    return Row(method, model_uri, data, *(float(scores[k]) for k in ("nmse", "rmse", "ssim", "psnr")))


def published_rows() -> list[Row]:
    return [Row(name, "", PUBLISHED_DATA, nmse, rmse) for name, nmse, rmse in PUBLISHED]


def data_label(data_name: str, split: str, maps: int, config: Config) -> str:
    """What a measured row was measured on: the data set's name, the split and its maps, e.g.
    `generated-1a2b test split, 320 maps at 64x64`."""
    size = "x".join(str(s) for s in config.data.image_size)
    return f"{data_name} {split} split, {maps} maps at {size}"


def comparison_table(rows: list[Row]) -> dict[str, list]:
    """The rows as columns (the artifact `evaluation/comparison.json`)."""
    return {column: [asdict(row)[column] for row in rows] for column in COLUMNS}


def comparison_markdown(rows: list[Row], config: Config, maps: int) -> str:
    """A markdown table of the rows, under a line that says in full what this evaluation was measured on."""
    data = config.data.data_dir or (
        f"generated data (embedded generator, {config.generator.maps} maps x {config.generator.tx_per_map} tx, "
        f"{config.generator.size} px, seed {config.generator.seed})"
    )
    size = "x".join(str(s) for s in config.data.image_size)
    lines = [
        f"**Measured on**: {data}, split `{config.data.split}`, {maps} radio maps at {size}, "
        f"simulation `{config.data.simulation}`, setting `{config.data.setting}`; every model on the same maps "
        "with the same metric code.",
        "",
        "| method | data | NMSE | RMSE | SSIM | PSNR (dB) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {row.method} | {row.data} | {_cell(row.nmse, 4)} | {_cell(row.rmse, 4)} | {_cell(row.ssim, 3)} | "
        f"{_cell(row.psnr, 2)} |"
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def _cell(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"
