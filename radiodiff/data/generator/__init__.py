"""The embedded radio-map generator: procedural cities + the `fast` propagation engine, written in the
RadioMapSeer layout (docs/generator.md)."""

from radiodiff.data.generator.city import CityStyle, draw_style, generate_city, place_transmitters
from radiodiff.data.generator.preview import preview_panel
from radiodiff.data.generator.propagation import ENGINE_VERSION, FastEngine, Materials, path_gain_db
from radiodiff.data.generator.simulate import MapSample, map_rng, simulate_map
from radiodiff.data.generator.writer import (
    GenerationSummary,
    dataset_matches,
    generate_dataset,
    generator_params,
)

__all__ = [
    "ENGINE_VERSION",
    "CityStyle",
    "FastEngine",
    "GenerationSummary",
    "MapSample",
    "Materials",
    "dataset_matches",
    "draw_style",
    "generate_city",
    "generate_dataset",
    "generator_params",
    "map_rng",
    "path_gain_db",
    "place_transmitters",
    "preview_panel",
    "simulate_map",
]
