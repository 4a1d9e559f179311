"""The `eda` job: analyse a data root (`radiodiff.eda`) and record the statistics and figures as one MLflow run."""

from __future__ import annotations

from typing import Any

from radiodiff.config import Config
from radiodiff.data.generated import resolve_data_root
from radiodiff.data.icassp.index import index_icassp
from radiodiff.data.layout import resolve_simulation
from radiodiff.eda import DEFAULT_MAX_RADIO_MAPS, analyse_dataset
from radiodiff.eda.analysis import check_max_radio_maps
from radiodiff.eda.indoor import analyse_indoor, indoor_metrics
from radiodiff.eda.scan import check_root
from radiodiff.tracking import start_run

STATS_FILE = "eda/stats.json"
"""Artifact holding every statistic and the list of inconsistencies."""
FIGURES_DIR = "eda/figures"
"""Artifact folder of the figures, one `<name>.png` per figure."""


def run_eda(config: Config, max_radio_maps: int = DEFAULT_MAX_RADIO_MAPS, nested: bool = False) -> str:
    """Analyse `config.data.data_dir` (empty: the generator's data set, made if missing) and log the run; a root of
    the icassp layout (`data.layout`) gets the indoor analysis (radiodiff/eda/indoor.py).

    Args:
        config: the resolved config; `data.simulation` and `data.setting` say what is analysed.
        max_radio_maps: cap on the radio maps decoded for statistics and figures (0: all).
        nested: open the run as a child of the active run.
    Returns:
        The run id.
    """
    check_max_radio_maps(max_radio_maps)
    root = resolve_data_root(config)
    indoor = config.data.layout == "icassp"
    if indoor:  # every file checked by the reader: a wrong data_dir fails here, before a run exists
        index_icassp(root)
    else:
        simulation = resolve_simulation(root, config.data.simulation)
        check_root(root, simulation)
    with start_run("eda", config, run_name=f"eda-{root.resolve().name}", nested=nested) as tracker:
        tracker.set_tags({"radiodiff.data_dir": str(root.resolve())})
        tracker.log_params({"eda.max_radio_maps": max_radio_maps})
        if indoor:
            result = analyse_indoor(root, max_radio_maps, progress=True)
        else:
            result = analyse_dataset(root, simulation, config.data.setting, max_radio_maps, progress=True)
        tracker.log_dict(result.stats, STATS_FILE)
        for name, image in result.figures.items():
            tracker.log_figure_png(image, f"{FIGURES_DIR}/{name}.png")
        tracker.log_metrics(indoor_metrics(result.stats) if indoor else eda_metrics(result.stats), step=0)
        tracker.log_dataset(root, name=root.resolve().name, digest=result.digest, context="eda")
        return tracker.run_id


def eda_metrics(stats: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of `eda/stats.json` as `eda/...` metrics (absent values are left out)."""
    counts, gain = stats["counts"], stats["path_gain_db"]
    metrics = {
        "eda/maps": counts["maps"],
        "eda/transmitters": counts["transmitters"],
        "eda/radio_maps": counts["radio_maps"],
        "eda/measured_radio_maps": counts["measured_radio_maps"],
        "eda/inconsistencies": stats["inconsistencies"]["count"],
        "eda/gain_mean_db": gain["street_pixels"].get("mean"),
        "eda/gain_std_db": gain["street_pixels"].get("std"),
        "eda/floor_fraction": gain["floor_fraction"],
        "eda/building_density_mean": stats["building_density_per_map"].get("mean"),
        "eda/los_fraction_mean": stats["los_fraction_per_radio_map"].get("mean"),
        "eda/coverage_mean": stats["coverage_per_radio_map"].get("mean"),
        "eda/seconds": stats["seconds"],
    }
    metrics.update({f"eda/inconsistencies_{kind}": n for kind, n in stats["inconsistencies"]["by_kind"].items()})
    return {key: float(value) for key, value in metrics.items() if value is not None}
