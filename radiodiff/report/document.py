"""The report's content: which sections, tables and figures, built from run data as render blocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from radiodiff.report import figures, formatting
from radiodiff.report.data import RunData
from radiodiff.report.plotting import Marker
from radiodiff.report.render import Block, Figure, Heading, Paragraph, Table
from radiodiff.report.resume import FACTOR, MIN_GAP_S
from radiodiff.report.summary import RunSummary, metric_summary, summarize

PHASE_MARKER = {"color": "tab:red", "linestyle": "--"}
RESUME_MARKER = {"color": "dimgray", "linestyle": ":"}
COMPARE_COLUMNS = ("train/loss", "val/rmse", "val/ssim", "val/psnr")
SAMPLE_COLUMNS = {
    "train_vae": "input | reconstruction | |error|",
    "train_ldm": "buildings | transmitter | truth | prediction | |error|",
    "train_unet": "buildings | transmitter | truth | prediction | |error|",
}
"""What the columns of each entry point's sample grid show (rows are validation examples)."""


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the run: its file stem, title, maker and caption."""

    name: str
    title: str
    make: Callable[[RunData, list[Marker]], bytes | None]
    caption: str


RUN_FIGURES = (
    FigureSpec(
        "losses", "Loss curves", figures.loss_panels, "Each `train/loss*` key on its own axes, log y if positive."
    ),
    FigureSpec("losses_normalised", "Normalised losses", figures.normalised_losses, "Each loss over its first value."),
    FigureSpec(
        "learning_rate", "Learning-rate schedule", figures.learning_rate, "`train/lr` as the optimiser used it."
    ),
    FigureSpec("throughput", "Throughput", figures.throughput, "`train/samples_per_s` between logging steps."),
    FigureSpec("validation", "Validation metrics", figures.validation_panels, "`val/*`; dashed green: baselines."),
    FigureSpec("diagnostics", "Training diagnostics", figures.diagnostics, "The other `train/*` signals."),
)


def build_report(run: RunData, compare: list[RunData] | None = None) -> list[Block]:
    """Every block of the report of `run`, with a comparison section when `compare` holds more runs."""
    summary = summarize(run)
    markers = run_markers(summary)
    blocks: list[Block] = [Heading(f"Training report: {run.label}", 1), Paragraph(_preamble(run))]
    blocks += [Heading("Summary"), _summary_table(summary)]
    blocks += _metric_tables(summary)
    shown = _run_figures(run, markers)
    note = _marker_note(markers) if shown else "The run logged no training metric and no sample image to draw."
    blocks += [Heading("Figures"), Paragraph(note), *shown]
    if compare:
        blocks += comparison([run, *compare])
    return blocks


def _run_figures(run: RunData, markers: list[Marker]) -> list[Block]:
    """The figures of one run that its data allows (a figure without data is left out)."""
    shown: list[Block] = []
    for spec in RUN_FIGURES:
        png = spec.make(run, markers)
        if png is not None:
            shown.append(Figure(spec.name, spec.title, png, spec.caption))
    progression = figures.sample_progression(run.samples)
    if progression is not None:
        shown.append(Figure("samples", "Sample progression", progression, _sample_caption(run)))
    return shown


def _reached_switch(summary: RunSummary) -> int | None:
    """The step of the VAE -> VAE-GAN switch when the run got there, else None."""
    switch, last = summary.phase_switch, summary.last_step
    return switch if switch is not None and last is not None and switch <= last else None


def run_markers(summary: RunSummary) -> list[Marker]:
    """The phase switch (when the run reached it) and the resume points, as step markers."""
    markers = []
    switch = _reached_switch(summary)
    if switch is not None:
        markers.append(Marker(switch, f"VAE → VAE-GAN (step {switch})", **PHASE_MARKER))
    for index, point in enumerate(summary.resumes):
        markers.append(Marker(point.last_step, "resume point" if index == 0 else "_resume", **RESUME_MARKER))
    return markers


def comparison(runs: list[RunData]) -> list[Block]:
    """A table with one row per run (final and best values) and the overlaid curves."""
    headers = ["run", "entry point", "status", "steps", "wall time"]
    for key in COMPARE_COLUMNS:
        headers += [f"final {key}", f"best {key}"]
    rows = [_comparison_row(run) for run in runs]
    blocks: list[Block] = [Heading("Comparison"), Table(headers, rows)]
    png = figures.compare_curves(runs)
    if png is not None:
        blocks.append(Figure("compare", "Runs overlaid", png, "train/loss, val/rmse and train/lr of every run."))
    return blocks


def _comparison_row(run: RunData) -> list[str]:
    summary = summarize(run)
    row = [f"{run.label} `{run.run_id}`", summary.entry_point, summary.status]
    row += [formatting.step(summary.last_step), formatting.duration(summary.wall_time_s)]
    for key in COMPARE_COLUMNS:
        found = metric_summary(key, run.metrics[key]) if key in run.metrics else None
        row += [formatting.number(found.final if found else None), formatting.number(found.best if found else None)]
    return row


def _preamble(run: RunData) -> str:
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Run `{run.run_id}` of experiment {run.record.experiment_name!r}, entry point "
        f"`{run.entry_point or '?'}`; report made {made} from the run's metric history in MLflow."
    )


def _summary_table(summary: RunSummary) -> Table:
    steps = formatting.step(summary.last_step)
    if summary.target_steps is not None:
        steps += f" of {summary.target_steps}"
    wall = formatting.duration(summary.wall_time_s)
    if summary.resume_gap_s:
        wall += f" (incl. {formatting.duration(summary.resume_gap_s)} in resume gaps)"
    rows = [
        ["status", summary.status],
        ["steps", steps],
        ["wall time", wall],
        ["attempts", str(summary.attempts)],
        ["resume points", formatting.resume_points(summary.resumes)],
        ["NaN skips", formatting.step(summary.nan_skips)],
        ["median throughput", _throughput(summary.samples_per_s)],
    ]
    losses = {m.key: m for m in summary.losses}
    if "train/loss" in losses:
        rows.insert(3, ["final / best train/loss", _final_best(losses["train/loss"].final, losses["train/loss"].best)])
    if _reached_switch(summary) is not None:
        rows.append(["phases", f"VAE until step {summary.phase_switch}, then VAE-GAN"])
    elif summary.phase_switch is not None:
        rows.append(["phases", f"VAE only (the VAE-GAN phase would start at step {summary.phase_switch})"])
    if summary.last_event:
        rows.append(["last event", summary.last_event])
    return Table(["quantity", "value"], rows)


def _metric_tables(summary: RunSummary) -> list[Block]:
    blocks: list[Block] = []
    for title, items in (("Losses", summary.losses), ("Validation", summary.validation + summary.baselines)):
        if items:
            rows = [
                [
                    m.key,
                    formatting.number(m.final),
                    str(m.final_step),
                    formatting.number(m.best),
                    formatting.step(m.best_step),
                ]
                for m in items
            ]
            blocks += [Heading(title), Table(["metric", "final", "at step", "best", "at step"], rows)]
    return blocks


def _sample_caption(run: RunData) -> str:
    steps = ", ".join(str(s.step) for s in run.samples)
    columns = SAMPLE_COLUMNS.get(run.entry_point)
    layout = f"; columns: {columns}, on the fixed radio-map colour scale" if columns else ""
    return f"The first, middle and last `samples` images as logged (steps {steps}){layout}."


def _throughput(samples_per_s: float | None) -> str:
    return formatting.MISSING if samples_per_s is None else f"{formatting.number(samples_per_s)} samples/s"


def _final_best(final: float, best: float) -> str:
    return f"{formatting.number(final)} / {formatting.number(best)}"


def _marker_note(markers: list[Marker]) -> str:
    """What the vertical lines on the step axes mean."""
    has_phase = any(m.color == PHASE_MARKER["color"] for m in markers)
    phase = "Dashed red: the VAE → VAE-GAN switch (`cfg.vae_loss.disc_start`). " if has_phase else ""
    return phase + (
        "Dotted grey (when any): a resume point, i.e. consecutive `train/loss` entries more than "
        f"{FACTOR:g}x slower per step than comparable intervals and at least {MIN_GAP_S:g} s apart, "
        "or a step logged again by a later attempt."
    )
