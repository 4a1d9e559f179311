"""Exploratory analysis of a RadioMapSeer-layout data root: every file checked, statistics and figures.

`analyse_dataset` returns the statistics and figures; the `eda` job (`radiodiff.jobs.eda`) logs them as a run.
"""

from radiodiff.eda.analysis import DEFAULT_MAX_RADIO_MAPS, FIGURE_NAMES, EdaResult, analyse_dataset
from radiodiff.eda.issues import ISSUE_KINDS, Issue
from radiodiff.eda.scan import DatasetScan, scan_dataset

__all__ = [
    "DEFAULT_MAX_RADIO_MAPS",
    "FIGURE_NAMES",
    "ISSUE_KINDS",
    "DatasetScan",
    "EdaResult",
    "Issue",
    "analyse_dataset",
    "scan_dataset",
]
