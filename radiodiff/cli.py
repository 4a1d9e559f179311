"""The `radiodiff` command line: one sub-command per MLproject entry point, same parameters.

`radiodiff generate_data --maps 8` and `mlflow run . -e generate_data -P maps=8` call the same job function;
the MLproject's scripts in entrypoints/ forward their arguments here. Parameters that the config also holds
(maps, size, ...) become overrides of the config, so the resolved config records what really ran.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radiodiff.cli_tools import TOOLS
from radiodiff.config import Config, ConfigError, load, parse_overrides
from radiodiff.data.png_io import DataError
from radiodiff.errors import InputError, MissingComponent, NotBuiltYet, RunConflict, TrackingUnavailable
from radiodiff.launch import in_launched_process, launch


@dataclass(frozen=True)
class Command:
    """A sub-command: its help, its own arguments, the config keys they override, and the job it runs."""

    help: str
    arguments: tuple[tuple[str, dict[str, Any]], ...]
    run: Callable[[Config, argparse.Namespace], Any]
    config_keys: tuple[tuple[str, str], ...] = ()


def _generate_data(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.generate_data import generate_data

    return generate_data(config, out_dir=args.out_dir)


def _train_vae(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.train_vae import train_vae

    return train_vae(config, resume=args.resume or "")


def _train_ldm(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.train_ldm import train_ldm

    return train_ldm(config, resume=args.resume or "")


def _train_unet(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.train_unet import train_unet

    return train_unet(config, resume=args.resume or "")


def _evaluate(config: Config, args: argparse.Namespace) -> Any:
    from evaluation.evaluate import evaluate

    if not args.model:
        raise ConfigError("evaluate needs a model: --model runs:/<run_id>/model or models:/radiodiff@champion")
    register = str(args.register).lower() in ("1", "true", "yes")
    compare = args.compare.replace(",", " ").split() if args.compare else []
    return evaluate(
        config, args.model, split=args.split or "test", steps=args.steps or 0, register=register, compare=compare
    )


def _predict(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.predict import predict_map

    if not (args.buildings and args.tx and args.out):
        raise ConfigError("predict needs --buildings B.png --tx ROW,COL --out OUT")
    try:
        row, col = (int(v) for v in args.tx.split(","))
    except ValueError:
        raise ConfigError(f"--tx {args.tx!r}: expected ROW,COL (two integers)") from None
    written = predict_map(args.model, Path(args.buildings), (row, col), Path(args.out), args.steps or 0, args.seed or 0)
    print(f"radiodiff predict: wrote {written} and {written.with_suffix('.npy')}")
    return written


def _eda(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.eda import DEFAULT_MAX_RADIO_MAPS
    from radiodiff.jobs.eda import run_eda

    cap = DEFAULT_MAX_RADIO_MAPS if args.max_radio_maps is None else args.max_radio_maps
    return run_eda(config, max_radio_maps=cap)


def _derive_edges(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.data.edge_dataset import write_edge_dataset
    from radiodiff.data.edges import check_edge_method
    from radiodiff.data.generated import resolve_data_root
    from radiodiff.data.layout import resolve_simulation

    if not args.out_dir:
        raise ConfigError("derive_edges needs --out_dir DST (the folder of the edge-map data set)")
    method = check_edge_method(args.method or "canny")  # before a default data set is generated
    root = resolve_data_root(config)
    summary = write_edge_dataset(root, Path(args.out_dir), method, resolve_simulation(root, config.data.simulation))
    print(f"radiodiff derive_edges: {summary}")
    return summary


def _report(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.report import run_report
    from radiodiff.tracking.experiment import choose_experiment

    experiment = args.experiment or choose_experiment(config.tracking.experiment)
    output = run_report(run_id=args.run_id or "", experiment=experiment, compare=args.compare or "")
    print(f"radiodiff report: {output.html_uri} (local copy: {output.folder})")
    return output


def _runs(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.runs import runs_table
    from radiodiff.tracking.experiment import choose_experiment

    table = runs_table(args.experiment or choose_experiment(config.tracking.experiment), include_all=bool(args.all))
    print(table)
    return table


def _main(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.main import run_main

    return run_main(config, processes=args.processes or 1)


def _sweep(config: Config, args: argparse.Namespace) -> Any:
    from radiodiff.jobs.sweep import run_sweep
    from radiodiff.sweep.settings import SweepSettings

    return run_sweep(config, SweepSettings.from_arguments(vars(args)))


def _not_built(issue: int, what: str) -> Callable[[Config, argparse.Namespace], Any]:
    def run(config: Config, args: argparse.Namespace) -> Any:
        raise NotBuiltYet(f"{what} is not built yet (issue #{issue}); nothing was run")

    return run


USER_ERRORS = (
    ConfigError,
    DataError,
    InputError,
    MissingComponent,
    NotBuiltYet,
    RunConflict,
    TrackingUnavailable,
    FileNotFoundError,
)
"""Errors that end a command with one line and exit status 2: the message says what to fix."""

PROCESSES = ("processes", {"type": int, "help": "data-parallel processes on this machine (default 1)"})

COMMANDS: dict[str, Command] = {
    "generate_data": Command(
        help="write a data set with the embedded generator (RadioMapSeer layout, or --layout icassp: indoor)",
        arguments=(
            ("out_dir", {"help": "output folder (default: data/generated-<fingerprint>)"}),
            ("layout", {"help": "radiomapseer (outdoor cities) or icassp (indoor floor plans); default: the config's"}),
            ("maps", {"type": int, "help": "number of city maps"}),
            ("tx_per_map", {"type": int, "help": "transmitters per map"}),
            ("size", {"type": int, "help": "map side in pixels"}),
            ("seed", {"type": int, "help": "data set seed"}),
            ("frequency_ghz", {"type": float, "help": "carrier frequency in GHz"}),
            ("engine", {"help": "propagation engine: fast, or sionna (ray tracing, the rt extra)"}),
            ("scene", {"help": "engine sionna: a bundled scene (munich, florence, etoile, ...) or a Mitsuba XML path"}),
            ("workers", {"type": int, "help": "worker processes (0: one per core)"}),
        ),
        run=_generate_data,
        config_keys=(
            ("layout", "data.layout"),
            ("maps", "generator.maps"),
            ("tx_per_map", "generator.tx_per_map"),
            ("size", "generator.size"),
            ("seed", "generator.seed"),
            ("frequency_ghz", "generator.frequency_ghz"),
            ("engine", "generator.engine"),
            ("scene", "generator.rt_scene"),
            ("workers", "generator.workers"),
        ),
    ),
    "eda": Command(
        help="analyse a data set: every file checked, statistics and figures logged as a run",
        arguments=(
            ("max_radio_maps", {"type": int, "help": "radio maps decoded for statistics and figures (0: all)"}),
        ),
        run=_eda,
    ),
    "train_vae": Command(
        help="train the autoencoder (two-phase VAE-GAN)",
        arguments=(("resume", {"help": "run id to continue from its last checkpoint"}), PROCESSES),
        run=_train_vae,
    ),
    "train_ldm": Command(
        help="train the conditional latent diffusion model on a trained VAE",
        arguments=(
            ("vae", {"help": "the VAE: models:/radiodiff-vae/<version>, runs:/<run_id>/vae or a package folder"}),
            ("resume", {"help": "run id to continue from its last checkpoint"}),
            PROCESSES,
        ),
        run=_train_ldm,
        config_keys=(("vae", "diffusion.vae_uri"),),
    ),
    "train_unet": Command(
        help="train the supervised RadioUNet baseline (condition image -> radio map, MSE)",
        arguments=(("resume", {"help": "run id to continue from its last checkpoint"}), PROCESSES),
        run=_train_unet,
    ),
    "evaluate": Command(
        help="score a model on a split; optionally register it and promote it to champion",
        arguments=(
            (
                "model",
                {"help": "model URI: runs:/<run_id>/model, models:/radiodiff/<version>, models:/radiodiff@champion"},
            ),
            ("split", {"choices": ["train", "val", "test"], "help": "split to score (default test)"}),
            ("steps", {"type": int, "help": "sampler steps N (default: the model's)"}),
            ("register", {"help": "true: register (radiodiff or radiounet, by model type); champion if better"}),
            ("compare", {"help": "more model URIs scored on the same maps, separated by spaces or commas"}),
        ),
        run=_evaluate,
    ),
    "report": Command(
        help="render the training report of a run (figures + Markdown/HTML) into its artifacts under report/",
        arguments=(
            ("run_id", {"help": "the run to report on (default: the experiment's latest training run)"}),
            ("experiment", {"help": "take this experiment's latest training run (default: the jobs' experiment)"}),
            ("compare", {"help": "more run ids to compare with, separated by spaces or commas"}),
        ),
        run=_report,
    ),
    "predict": Command(
        help="predict one radio map: a PNG with a dB colour bar and a .npy of the gain in dB",
        arguments=(
            ("model", {"default": "models:/radiodiff@champion", "help": "model URI (default: the champion)"}),
            ("buildings", {"help": "building mask PNG (non-zero inside buildings)"}),
            ("tx", {"help": "transmitter position ROW,COL in the PNG's pixels"}),
            ("out", {"help": "output path (OUT.png and OUT.npy)"}),
            ("steps", {"type": int, "help": "sampler steps N (default: the model's)"}),
            ("seed", {"type": int, "help": "sampler seed (default 0)"}),
        ),
        run=_predict,
    ),
    "derive_edges": Command(
        help="write the edge maps of gain/<simulation> as a new data root (inputs hard-linked or copied)",
        arguments=(
            ("out_dir", {"help": "output data root DST"}),
            ("method", {"help": "edge detector: canny, sobel, laplacian or prewitt (default canny)"}),
            ("simulation", {"help": "folder under gain/ to transform (default: data.simulation)"}),
        ),
        run=_derive_edges,
        config_keys=(("simulation", "data.simulation"),),
    ),
    "runs": Command(
        help="list an experiment's runs: status (DEAD: RUNNING but its heartbeat stopped), step, how to resume",
        arguments=(
            ("experiment", {"help": "experiment name (default: where the jobs' runs land, see README)"}),
            ("all", {"action": "store_true", "help": "every run, not only the 20 newest"}),
        ),
        run=_runs,
    ),
    "main": Command("the whole pipeline: generate_data -> train_vae -> train_ldm -> evaluate", (PROCESSES,), _main),
    "sweep": Command(
        help="an Optuna study over config keys: each trial a nested run of a training entry point, pruned early",
        arguments=(
            ("space", {"help": 'search space, e.g. "vae_train.lr=loguniform(1e-4,3e-3) vae.channels=choice(8,16)"'}),
            ("entry", {"help": "training entry point of each trial: train_vae (default), train_ldm or train_unet"}),
            ("trials", {"type": int, "help": "trials COMPLETE or PRUNED in the whole study (default 20)"}),
            ("metric", {"help": "validation score to optimise (default val/rmse)"}),
            ("direction", {"help": "minimize or maximize (default: maximize for val/ssim and val/psnr)"}),
            ("seed", {"type": int, "help": "TPE sampler seed (default 0)"}),
            ("study", {"help": "study name (default: derived from entry, metric, space and config)"}),
            ("storage", {"help": "Optuna RDB URI (default sqlite:///<RADIODIFF_HOME>/sweeps/optuna.db)"}),
            ("pruner_startup_trials", {"type": int, "help": "completed trials before the median pruner prunes (5)"}),
            ("pruner_warmup_steps", {"type": int, "help": "no pruning at validation steps below this (0)"}),
            ("vae", {"help": "train_ldm trials: the VAE (models:/radiodiff-vae/<version>, runs:/<run_id>/vae)"}),
        ),
        run=_sweep,
        config_keys=(("vae", "diffusion.vae_uri"),),
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="radiodiff", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        sub.add_argument("--config", default="", help="YAML config (default: configs/default.yaml)")
        sub.add_argument("--overrides", default="", help='space-separated key.sub=value, e.g. "data.batch_size=4"')
        sub.add_argument("--data-dir", "--data_dir", dest="data_dir", default="", help="data root")
        for dest, options in command.arguments:
            flags = sorted({f"--{dest}", f"--{dest.replace('_', '-')}"})
            sub.add_argument(*flags, dest=dest, **{"default": None, **options})
    for name, tool in TOOLS.items():
        tool.add_arguments(commands.add_parser(name, help=tool.help, description=tool.help))
    return parser


def resolve_config(args: argparse.Namespace, command: Command) -> Config:
    """The config file + `--overrides` + the sub-command's own parameters (which win)."""
    overrides = parse_overrides(args.overrides)
    if args.data_dir:
        overrides["data.data_dir"] = args.data_dir
    for dest, key in command.config_keys:
        if getattr(args, dest) not in (None, ""):
            overrides[key] = getattr(args, dest)
    return load(args.config or None, overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; bad input ends with a one-line error and exit status 2."""
    argv = _drop_empty_values(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    if args.command in TOOLS:
        try:
            return TOOLS[args.command].run(args)
        except Exception as err:
            message = _error_line(err)
            if message is None:
                raise
            print(f"radiodiff {args.command}: error: {message}", file=sys.stderr)
            return 2
    command = COMMANDS[args.command]
    try:
        config = resolve_config(args, command)  # bad settings stop here, before any process is launched
        processes = getattr(args, "processes", None) or 1
        if processes > 1 and args.command != "main" and not in_launched_process():  # main launches its steps
            return launch(processes, _without_processes(argv))
        command.run(config, args)
    except Exception as err:
        message = _error_line(err)
        if message is None:
            raise
        if os.environ.get("RANK", "0") == "0":  # one line for the whole job, from rank 0
            print(f"radiodiff {args.command}: error: {message}", file=sys.stderr)
        if in_launched_process():  # every rank has the same error: the others end once rank 0 has said it
            from radiodiff.distributed import wait_for_all

            wait_for_all()
        return 2
    return 0


def _error_line(err: Exception) -> str | None:
    """The one line that ends a command for a user error or an unreachable or refusing tracking server; None for
    a bug (which keeps its traceback). mlflow is imported only when one of its errors arrived."""
    if isinstance(err, USER_ERRORS):
        return str(err)
    if "mlflow" not in type(err).__module__:
        return None
    from radiodiff.tracking.delivery import tracking_failure

    return tracking_failure(err)


def _without_processes(argv: list[str]) -> list[str]:
    """The command line each launched process runs: the same, less `--processes N`."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == "--processes":
            skip = True
        elif not item.startswith("--processes="):
            out.append(item)
    return out


def _drop_empty_values(argv: list[str]) -> list[str]:
    """`--maps ''` (an MLproject parameter left at its empty default) means: not given."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i].startswith("--") and "=" not in argv[i] and i + 1 < len(argv) and argv[i + 1] == "":
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out
