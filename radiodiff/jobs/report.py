"""The `report` job: render a run's training report and log it into that run's artifacts under `report/`.

The run is read back through MLflow (metric histories, params, tags, logged sample images); the report is
written locally to <RADIODIFF_HOME>/outputs/<run_id>/report/ and then added to the run, which keeps its
status and end time. Under `mlflow run . -e report`, MLflow also creates a launcher run; it is tagged with
the run it reported on.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from radiodiff.paths import run_dir
from radiodiff.report.data import load_run_data
from radiodiff.report.document import build_report
from radiodiff.report.render import FIGURE_FOLDER, Block, figures, to_html, to_markdown
from radiodiff.tracking import add_artifacts, latest_training_run, set_run_tags

ARTIFACT_PATH = "report"
MARKDOWN_FILE = "report.md"
HTML_FILE = "report.html"


@dataclass(frozen=True)
class ReportOutput:
    """Where a report went."""

    run_id: str
    """The reported run (the report is in its artifacts)."""
    folder: Path
    """The local copy: report.md, report.html and figures/*.png."""
    markdown_uri: str
    """`runs:/<run_id>/report/report.md`."""
    html_uri: str
    """`runs:/<run_id>/report/report.html`."""
    compared: tuple[str, ...] = ()


def run_report(run_id: str = "", experiment: str = "", compare: Sequence[str] | str = ()) -> ReportOutput:
    """Render the training report of a run and log it into the run's artifacts.

    Args:
        run_id: the run to report on; empty: the newest run of `experiment` that logged train/loss.
        experiment: experiment name, used when `run_id` is empty.
        compare: more run ids (a sequence, or one string of ids separated by spaces or commas) whose
            curves and final/best values are compared with the run's.
    Returns:
        The run id, the local folder and the runs:/ URIs of report.md and report.html.
    Raises:
        ValueError: neither a run id nor an experiment was given.
        RunNotFound: a run id or the experiment is not in the tracking store.
    """
    if not run_id and not experiment:
        raise ValueError("report needs a run_id or an experiment (whose latest training run is reported)")
    target = run_id or latest_training_run(experiment)
    others = [i for i in dict.fromkeys(parse_run_ids(compare)) if i != target]
    run = load_run_data(target)
    compared = [load_run_data(i, with_samples=False) for i in others]
    blocks = build_report(run, compared)
    folder = write_report(blocks, run_dir(target) / ARTIFACT_PATH, title=f"radiodiff report: {run.label}")
    uri = add_artifacts(target, folder, ARTIFACT_PATH)
    output = ReportOutput(target, folder, f"{uri}/{MARKDOWN_FILE}", f"{uri}/{HTML_FILE}", tuple(others))
    _tag_launcher_run(output)
    return output


def write_report(blocks: list[Block], folder: Path, title: str) -> Path:
    """Write report.md, report.html and figures/<name>.png into `folder` (emptied first); returns it."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / FIGURE_FOLDER).mkdir(parents=True)
    for name, png in figures(blocks).items():
        (folder / FIGURE_FOLDER / name).write_bytes(png)
    (folder / MARKDOWN_FILE).write_text(to_markdown(blocks), encoding="utf-8")
    (folder / HTML_FILE).write_text(to_html(blocks, title), encoding="utf-8")
    return folder


def parse_run_ids(ids: Sequence[str] | str) -> list[str]:
    """Run ids from a string separated by spaces and/or commas (or from a sequence of such strings)."""
    texts = [ids] if isinstance(ids, str) else list(ids)
    return [part for text in texts for part in re.split(r"[\s,]+", text.strip()) if part]


def _tag_launcher_run(output: ReportOutput) -> None:
    """`mlflow run . -e report` made a run of its own (MLFLOW_RUN_ID): say which run it reported on."""
    launcher = os.environ.get("MLFLOW_RUN_ID", "")
    if launcher and launcher != output.run_id:
        tags = {"radiodiff.entry_point": "report", "radiodiff.report_of": output.run_id}
        set_run_tags(launcher, {**tags, "radiodiff.report_uri": output.html_uri})
