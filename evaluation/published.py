"""Published RadioMapSeer SRM figures (FACTS §3) and the run description that sets ours beside them."""

from __future__ import annotations

from radiodiff.config import Config

# (method, NMSE, RMSE) on RadioMapSeer DPM, static setting, as published (FACTS §3).
PUBLISHED = (
    ("RadioDiff (paper)", 0.0049, 0.0190),
    ("RadioUNet", 0.0074, 0.0244),
    ("RME-GAN", 0.0115, 0.0303),
    ("RMDM", 0.0031, 0.0125),
    ("RadioFlow", 0.0023, 0.0103),
)


def comparison_markdown(metrics: dict[str, float], baseline: dict[str, float], config: Config, maps: int) -> str:
    """A markdown table of this evaluation, the free-space baseline and the published figures.

    The published figures were measured on the real RadioMapSeer data at 256x256; the table says what ours
    were measured on, so nobody mistakes a generated-data score for a RadioMapSeer result.
    """
    data = config.data.data_dir or (
        f"generated data (embedded generator, {config.generator.maps} maps x {config.generator.tx_per_map} tx, "
        f"{config.generator.size} px, seed {config.generator.seed})"
    )
    size = "x".join(str(s) for s in config.data.image_size)
    lines = [
        f"**Measured on**: {data}, split `{config.data.split}`, {maps} radio maps at {size}, "
        f"simulation `{config.data.simulation}`, setting `{config.data.setting}`.",
        "",
        "| method | data | NMSE | RMSE | SSIM | PSNR (dB) |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| this model | above | {metrics['test/nmse']:.4f} | {metrics['test/rmse']:.4f} | "
        f"{metrics['test/ssim']:.3f} | {metrics['test/psnr']:.2f} |",
        f"| free-space baseline | above | {baseline['baseline/test_nmse']:.4f} | "
        f"{baseline['baseline/test_rmse']:.4f} | {baseline['baseline/test_ssim']:.3f} | "
        f"{baseline['baseline/test_psnr']:.2f} |",
    ]
    lines += [f"| {name} | RadioMapSeer 256x256 (published) | {nmse} | {rmse} | | |" for name, nmse, rmse in PUBLISHED]
    return "\n".join(lines) + "\n"
