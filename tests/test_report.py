"""The `report` job on a real sqlite MLflow store and a tiny real train_vae run.

One module-scoped training run (~20 s) is reported through the command line, compared with a synthetic
run; a copy of its history with a 10-minute hole is reported to show a resume point.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from PIL import Image
from training_helpers import PROJECT_ROOT, TINY_VAE, history

from radiodiff.cli import main as cli_main
from radiodiff.config import load
from radiodiff.jobs.report import parse_run_ids, run_report
from radiodiff.jobs.train_vae import train_vae
from radiodiff.report.data import load_run_data
from radiodiff.report.formatting import number
from radiodiff.report.resume import find_resume_points
from radiodiff.report.summary import summarize
from radiodiff.tracking import RunNotFound, latest_training_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHECK_SCRIPT = PROJECT_ROOT / "bench" / "check_report_html.py"


@dataclass(frozen=True)
class Reported:
    """The trained run, the synthetic run it was compared with, and where the report went."""

    home: Path
    run_id: str
    other_id: str
    end_time_before: int

    @property
    def folder(self) -> Path:
        return self.home / "outputs" / self.run_id / "report"


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reported]:
    """Train once, report through the command line with --compare; a private store for the whole module."""
    home = tmp_path_factory.mktemp("report")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv("RADIODIFF_HOME", str(home))
        patch.delenv("MLFLOW_RUN_ID", raising=False)
        patch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
        patch.chdir(home)
        mlflow.set_tracking_uri(uri)
        run_id = train_vae(load(PROJECT_ROOT / "configs/default.yaml", TINY_VAE), register=False)
        other_id = _synthetic_run(MlflowClient(), "synthetic")
        end_time = MlflowClient().get_run(run_id).info.end_time
        assert cli_main(["report", "--run_id", run_id, "--compare", f" {other_id}, {run_id}"]) == 0
        yield Reported(home, run_id, other_id, end_time)
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)


def test_report_is_logged_into_the_run_which_stays_finished(reported: Reported) -> None:
    client = MlflowClient()
    run = client.get_run(reported.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.end_time == reported.end_time_before  # the wall time of the run did not grow
    logged = {a.path for a in client.list_artifacts(reported.run_id, "report")}
    assert {"report/report.md", "report/report.html", "report/figures"} <= logged
    figures = {Path(a.path).name for a in client.list_artifacts(reported.run_id, "report/figures")}
    expected = {"losses", "losses_normalised", "learning_rate", "throughput", "validation", "diagnostics"}
    assert figures == {f"{name}.png" for name in expected | {"samples", "compare"}}


def test_report_numbers_match_the_metric_history(reported: Reported) -> None:
    client = MlflowClient()
    last_loss = history(client, reported.run_id, "train/loss")[-1][1]
    best_rmse = min(v for _, v in history(client, reported.run_id, "val/rmse"))
    nan_skips = int(history(client, reported.run_id, "train/nan_skips")[-1][1])

    summary = summarize(load_run_data(reported.run_id, with_samples=False))
    losses = {m.key: m for m in summary.losses}
    validation = {m.key: m for m in summary.validation}
    assert losses["train/loss"].final == last_loss
    assert validation["val/rmse"].best == best_rmse
    assert summary.nan_skips == nan_skips
    assert (summary.last_step, summary.target_steps, summary.attempts) == (24, 24, 1)

    markdown = (reported.folder / "report.md").read_text()
    assert f"| final / best train/loss | {number(last_loss)} / " in markdown
    assert re.search(rf"\| val/rmse \| [^|]+ \| \d+ \| {re.escape(number(best_rmse))} \|", markdown)
    assert f"| NaN skips | {nan_skips} |" in markdown
    assert "| resume points | none |" in markdown
    assert "| phases | VAE until step 10, then VAE-GAN |" in markdown


def test_every_html_image_is_an_embedded_png(reported: Reported) -> None:
    page = _parse_html((reported.folder / "report.html").read_text())
    assert page.external == [] and page.tags.isdisjoint({"script", "link", "iframe"})
    assert len(page.images) == len(list((reported.folder / "figures").glob("*.png"))) == 8
    for source in page.images:
        assert source.startswith("data:image/png;base64,")
        png = base64.b64decode(source.split(",", 1)[1], validate=True)
        assert png.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            assert image.width > 0 and image.height > 0


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (apt-get install chromium)")
def test_html_renders_in_headless_chromium(reported: Reported, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    command = [sys.executable, str(CHECK_SCRIPT), str(reported.folder / "report.html"), "--screenshot", str(shot)]
    done = subprocess.run([*command, "--expect-images", "8"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.width == 1400 and image.height > 2000


def test_compare_renders_a_table_with_one_row_per_run(reported: Reported) -> None:
    markdown = (reported.folder / "report.md").read_text()
    section = markdown.split("## Comparison", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 2  # the reported run listed once although --compare repeated it
    assert reported.run_id in rows[0] and reported.other_id in rows[1]
    assert "![Runs overlaid](figures/compare.png)" in section


def test_a_gap_in_the_history_is_a_resume_point(reported: Reported) -> None:
    resumed = _copy_with_gap(MlflowClient(), reported.run_id, "synthetic", after_step=12, gap_ms=600_000)
    output = run_report(run_id=resumed)
    summary = summarize(load_run_data(resumed, with_samples=False))
    assert [(p.last_step, p.next_step, p.reason) for p in summary.resumes] == [(12, 14, "time gap")]
    assert summary.attempts == 2
    markdown = (output.folder / "report.md").read_text()
    assert "| resume points | after step 12 → 14 (" in markdown and "| attempts | 2 |" in markdown
    assert MlflowClient().get_run(resumed).info.status == "FINISHED"


def test_experiment_means_its_latest_training_run(reported: Reported) -> None:
    assert latest_training_run("Default") == reported.run_id
    assert latest_training_run("synthetic") != reported.run_id


def test_unknown_runs_end_with_one_line(reported: Reported, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RunNotFound, match="no run with id 'nope'"):
        run_report(run_id="nope")
    assert cli_main(["report", "--experiment", "missing"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"radiodiff report: error: no experiment named 'missing' in the tracking store {mlflow.get_tracking_uri()}"
    )


def test_resume_rule_on_synthetic_timestamps() -> None:
    steps = np.arange(2, 42, 2)
    regular = np.cumsum(np.full(steps.size, 500)) + np.random.default_rng(0).integers(0, 300, steps.size)
    slow_evaluations = regular + np.cumsum(np.isin(steps, [10, 20, 30, 40]) * 20_000)  # 20 s validations
    assert find_resume_points(steps, slow_evaluations, event_steps={10, 20, 30, 40}) == []
    gap = slow_evaluations + (steps > 24) * 60_000
    assert [(p.last_step, p.next_step) for p in find_resume_points(steps, gap, {10, 20, 30, 40})] == [(24, 26)]
    restarted = np.concatenate([steps[:8], steps[5:]]), np.arange(steps.size + 3) * 500
    assert [p.reason for p in find_resume_points(*restarted)] == ["step restart"]
    assert parse_run_ids(" a, b  c,,") == ["a", "b", "c"]


class _Page(HTMLParser):
    """Image sources, references to anything outside the page, and the tags used."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "src" and tag == "img":
                self.images.append(value or "")
            if name in ("src", "href") and not (value or "").startswith(("data:", "#")):
                self.external.append(value or "")


def _parse_html(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _synthetic_run(client: MlflowClient, experiment: str) -> str:
    """A finished run of another experiment with train/loss, train/lr and val/rmse over 12 steps."""
    experiment_id = client.create_experiment(experiment)
    run = client.create_run(experiment_id, run_name="synthetic", tags={"radiodiff.entry_point": "train_ldm"})
    start = run.info.start_time
    metrics = []
    for i, step in enumerate(range(2, 14, 2)):
        stamp = start + 1000 * (i + 1)
        metrics += [Metric("train/loss", 1.0 / step, stamp, step), Metric("train/lr", 1e-4, stamp, step)]
        metrics += [Metric("val/rmse", 0.5 - 0.01 * step, stamp, step)]
    client.log_batch(run.info.run_id, metrics=metrics)
    client.set_terminated(run.info.run_id, end_time=start + 8000)
    return run.info.run_id


def _copy_with_gap(client: MlflowClient, run_id: str, experiment: str, after_step: int, gap_ms: int) -> str:
    """A copy of a run's metrics, params and tags (in another experiment) whose entries after `after_step`
    were logged `gap_ms` later, as if the run had been interrupted there and resumed."""
    source = client.get_run(run_id)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    copy = client.create_run(experiment_id, start_time=source.info.start_time, run_name="resumed")
    params = [Param(k, v) for k, v in source.data.params.items()]
    tags = [RunTag(k, v) for k, v in source.data.tags.items() if not k.startswith("mlflow.")]
    metrics = [
        Metric(key, m.value, m.timestamp + (gap_ms if m.step > after_step else 0), m.step)
        for key in source.data.metrics
        for m in client.get_metric_history(run_id, key)
    ]
    client.log_batch(copy.info.run_id, params=params, tags=tags)
    for start in range(0, len(metrics), 500):
        client.log_batch(copy.info.run_id, metrics=metrics[start : start + 500])
    client.set_terminated(copy.info.run_id, end_time=source.info.end_time + gap_ms)
    return copy.info.run_id
