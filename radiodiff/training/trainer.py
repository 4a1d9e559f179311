"""The generic training loop: accelerate, accumulation, clipping, EMA, NaN guard, checkpoints, logging.

One optimisation step = `grad_accum` micro-batches -> clip -> (NaN check) -> optimiser step -> EMA update.
After each step: metrics every `log_every`, validation every `val_every`, samples every `sample_every`,
checkpoint every `checkpoint_every` (always last, so the saved RNG state is the one the next step starts
from: a resumed run continues exactly). An `on_validation` callback sees every validation's scores and may end
training early by raising `TrainingStopped` (before that step's checkpoint: the last one stays whole).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import (
    DataLoaderConfiguration,
    GradientAccumulationPlugin,
    InitProcessGroupKwargs,
    gather_object,
    send_to_device,
)
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from radiodiff.config import Config, ConfigError, TrainConfig
from radiodiff.data.datasets import map_loader
from radiodiff.distributed import sync_batch_norms
from radiodiff.training.checkpoint import (
    PROCESSES_KEY,
    RANK_RNG_KEY,
    Checkpoint,
    TrainingState,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from radiodiff.training.ema import EMA
from radiodiff.training.faults import FaultInjector
from radiodiff.training.metrics_log import MetricsLog
from radiodiff.training.nan_guard import NanGuard
from radiodiff.training.processes import gather_scores, mean_logs, on_cpu, share_of_batches
from radiodiff.training.sampler import ResumableSampler
from radiodiff.training.schedules import lr_factor
from radiodiff.training.task import TrainingTask

ValidationCallback = Callable[[int, dict[str, float]], None]
"""(step, {metric name: mean score over the validation maps}); may raise `radiodiff.errors.TrainingStopped`."""


def build_accelerator(train: TrainConfig) -> Accelerator:
    """bf16 autocast where the device supports it (CUDA with bf16), fp32 otherwise (`mixed_precision`)."""
    precision = train.mixed_precision
    if precision == "auto":
        precision = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    plugin = GradientAccumulationPlugin(num_steps=train.grad_accum, sync_with_dataloader=False)
    # split_batches: the loader yields global batches (the stage's batch x processes) and each process takes an
    # equal slice, so the epoch, its order and its end are those of one process whatever the process count.
    # rng_types=[]: the data order is seeded per epoch by ResumableSampler, identical on every process.
    return Accelerator(
        cpu=on_cpu(),
        mixed_precision=precision,
        gradient_accumulation_plugin=plugin,
        dataloader_config=DataLoaderConfiguration(split_batches=True),
        kwargs_handlers=[InitProcessGroupKwargs(timeout=timedelta(seconds=train.collective_timeout_s))],
        rng_types=[],
    )


class Trainer:
    """Trains one `TrainingTask` to `train.steps` optimisation steps, resuming from a checkpoint if given."""

    def __init__(
        self,
        task: TrainingTask,
        config: Config,
        train: TrainConfig,
        datasets: tuple[Dataset, Dataset],
        work_dir: Path,
        log: MetricsLog,
        resume_from: Path | None = None,
        on_validation: ValidationCallback | None = None,
    ) -> None:
        """`on_validation` is called on every process after each validation with the gathered scores."""
        self.task, self.config, self.train, self.log = task, config, train, log
        self.on_validation = on_validation
        self.work_dir = Path(work_dir)
        self.accelerator = build_accelerator(train)
        resume = load_checkpoint(resume_from) if resume_from else None
        self.state = resume.state if resume else TrainingState(kind=task.kind, run_id=log.run_id)
        self.guard = NanGuard(train.nan_max_consecutive, train.nan_lr_factor)
        self._build_modules(resume)  # the task built its modules; the caller seeded that
        self.train_set, self.val_set = datasets
        self.global_batch = train.batch_for(config.data) * self.accelerator.num_processes  # split_batches
        if len(self.train_set) < self.global_batch:  # drop_last would leave every epoch without a batch
            raise ConfigError(
                f"the training split has {len(self.train_set)} radio maps, fewer than one batch of {self.global_batch} "
                f"({self.accelerator.num_processes} process(es)): lower the batch size or add maps"
            )
        self.sampler = ResumableSampler(len(self.train_set), seed=train.seed)
        loader = DataLoader(
            self.train_set,
            batch_size=self.global_batch,
            sampler=self.sampler,
            num_workers=config.data.num_workers,
            drop_last=True,
            generator=torch.Generator().manual_seed(train.seed),  # keeps the global RNG untouched
        )
        self.loader = self.accelerator.prepare(loader)
        self.grid_batch, self.val_batches = self._validation_batches()
        self.faults = FaultInjector.from_environment()
        if resume:
            self._restore_training_state(resume)

    # ----- construction -------------------------------------------------------------------------------
    def _build_modules(self, resume: Checkpoint | None) -> None:
        modules = self.task.modules()
        for name, module in modules.items():
            if resume:
                module.load_state_dict(resume.weights[name])
            if self.accelerator.num_processes > 1:
                sync_batch_norms(module)  # batch statistics of the global batch, as in one process
        names = list(modules)
        prepared = self.accelerator.prepare(*modules.values())
        prepared = prepared if isinstance(prepared, tuple) else (prepared,)
        self.modules = dict(zip(names, prepared, strict=True))
        optimizers = self.task.optimizers(self.modules)
        opt_names = list(optimizers)
        prepared_opts = self.accelerator.prepare(*optimizers.values())
        prepared_opts = prepared_opts if isinstance(prepared_opts, tuple) else (prepared_opts,)
        self.optimizers = dict(zip(opt_names, prepared_opts, strict=True))
        main = self.accelerator.unwrap_model(self.modules[self.task.main_module])
        self.ema = EMA(main, self.train.ema_decay) if self.train.ema_decay > 0 else None
        self.eval_model = copy.deepcopy(main).eval().requires_grad_(False)

    def _restore_training_state(self, resume: Checkpoint) -> None:
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(resume.training_state["optimizers"][name])
        if self.ema is not None:
            self.ema.load_state_dict(resume.ema_weights[self.task.main_module], resume.state.ema_updates)
        self.guard.load_state_dict(resume.state.nan_guard)
        restore_rng(resume, self.accelerator.process_index, self.accelerator.num_processes)

    def _validation_batches(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first global validation batch (the sample grid's), and this process's share of the first
        `val_batches` global batches (each map is scored by one process)."""
        count = self.train.val_batches or None
        loader = map_loader(self.val_set, self.global_batch)
        batches = []
        for i, batch in enumerate(loader):
            if count is not None and i >= count:
                break
            batches.append(send_to_device(batch, self.accelerator.device))
        if not batches:
            raise ConfigError("the validation split is empty: add maps or raise data.val_fraction")
        return batches[0], share_of_batches(batches, self.accelerator)

    # ----- the loop -----------------------------------------------------------------------------------
    def fit(self) -> TrainingState:
        """Train until `train.steps`; returns the final state."""
        if self.state.step == 0:
            self._evaluate(step=0)
            self._save("last")
        stream = self._micro_batches()
        self.log.start_clock(self.state.step)
        bar = tqdm(total=self.train.steps, initial=self.state.step, disable=not self.accelerator.is_main_process)
        while self.state.step < self.train.steps:
            logs = self._optimisation_step(stream)
            self.state.step += 1
            self._after_step(logs, bar)
            bar.update(1)
        bar.close()
        self.log.flush()
        return self.state

    def _micro_batches(self) -> Iterator[dict[str, Any]]:
        """An endless stream of micro-batches, starting where the state says (resume mid-epoch)."""
        skip = self.state.position
        while True:
            self.train_set.set_epoch(self.state.epoch)
            loader = self.accelerator.skip_first_batches(self.loader, skip) if skip else self.loader
            loader.set_epoch(self.state.epoch)
            for batch in loader:
                self.state.position += 1
                yield batch
            self.state.epoch += 1
            self.state.position = 0
            skip = 0

    def _optimisation_step(self, stream: Iterator[dict[str, Any]]) -> dict[str, float]:
        self._set_learning_rates()
        totals: dict[str, float] = {}
        for _ in range(self.train.grad_accum):
            batch = self.faults.maybe_poison(next(stream), self.state.step + 1)
            with self.accelerator.accumulate(*self.modules.values()):
                with self.accelerator.autocast():
                    output = self.task.compute(self.modules, batch, self.state.step)
                for loss in output.losses.values():
                    self.accelerator.backward(loss)
                if self.accelerator.sync_gradients:
                    totals["grad_norm"] = self._clip_and_step(output)
                for optimizer in self.optimizers.values():
                    optimizer.zero_grad(set_to_none=True)
            for key, value in output.logs.items():
                totals[key] = totals.get(key, 0.0) + float(value) / self.train.grad_accum
        return mean_logs(totals, self.accelerator)

    def _clip_and_step(self, output: Any) -> float:
        """Clip every module's gradients; step the optimisers only when losses and norms are finite.

        The losses are means over the processes and the norms those of the all-reduced gradients, so a
        non-finite value on any process skips the step on every process.
        """
        norms = [self._clip(module) for module in self.modules.values()]
        losses = [float(self.accelerator.reduce(loss.detach(), "mean")) for loss in output.losses.values()]
        if self.guard.check(*losses, *norms):
            for optimizer in self.optimizers.values():
                optimizer.step()
            if self.ema is not None:
                self.ema.update(self.accelerator.unwrap_model(self.modules[self.task.main_module]))
        return norms[0]

    def _clip(self, module: torch.nn.Module) -> float:
        params = [p for p in module.parameters() if p.grad is not None]
        if not params:
            return 0.0
        max_norm = self.train.grad_clip if self.train.grad_clip > 0 else float("inf")
        return float(self.accelerator.clip_grad_norm_(params, max_norm))

    def _set_learning_rates(self) -> None:
        factor = lr_factor(self.state.step, self.train) * self.guard.lr_scale
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = self.task.base_lrs()[name] * factor

    def _after_step(self, logs: dict[str, float], bar: tqdm) -> None:
        step, train = self.state.step, self.train
        self.log.set_phase(self.task.phase(step))
        last = step == train.steps
        self.log.training(step, logs, lr=self._current_lr(), nan_skips=self.guard.total_skips, every=last)
        bar.set_postfix(loss=f"{logs.get('loss', float('nan')):.4f}", refresh=False)
        if self.guard.needs_restore:
            self._restore_last_good()
        if step % train.val_every == 0 or step % train.sample_every == 0 or last:
            self._evaluate(step, metrics=step % train.val_every == 0 or last)
        if step % train.checkpoint_every == 0 or last:
            self._save("last")
        self.faults.maybe_kill(step, self.accelerator.process_index)

    def _current_lr(self) -> float:
        first = next(iter(self.optimizers.values()))
        return float(first.param_groups[0]["lr"])

    def _evaluate(self, step: int, metrics: bool = True) -> None:
        if self.ema is not None:
            self.ema.copy_to(self.eval_model)
        else:
            main = self.accelerator.unwrap_model(self.modules[self.task.main_module])
            self.eval_model.load_state_dict(main.state_dict())
        if metrics:
            scores = gather_scores(self.task.validate(self.eval_model, self.val_batches), self.accelerator)
            self.log.validation(step, scores)
            if scores["rmse"] < self.state.best_metric:
                self.state.best_metric = scores["rmse"]
                if step > 0:
                    self._save("best")
        if self.accelerator.is_main_process:
            self.log.samples(step, self.task.sample_grid(self.eval_model, self.grid_batch))
        if metrics and self.on_validation is not None:
            self.on_validation(step, scores)  # may raise TrainingStopped: every process has the same scores

    # ----- checkpoints --------------------------------------------------------------------------------
    def _save(self, which: str) -> None:
        """Write a checkpoint (one writer per machine; rank 0 also queues its upload to the run), then wait for it.

        It never waits for the tracking server: the metrics up to this step are in the run's outbox journal on
        local disk (a resume delivers what a crashed process left there), and the upload happens in the background.

        Every process's torch RNG state goes in (dropout draws from it), so a resume with the same number of
        processes continues exactly; the weights, EMA and optimiser states are the same on every process.
        """
        rng = gather_object([torch.get_rng_state()])  # every process takes part
        if self.accelerator.is_local_main_process:
            self.state.nan_guard = self.guard.state_dict()
            self.state.ema_updates = self.ema.updates if self.ema else 0
            self.state.extra[PROCESSES_KEY] = self.accelerator.num_processes
            weights = {n: self.accelerator.unwrap_model(m).state_dict() for n, m in self.modules.items()}
            ema = {self.task.main_module: self.ema.state_dict()} if self.ema else {}
            optimizers = {n: o.state_dict() for n, o in self.optimizers.items()}
            folder = self.work_dir / "checkpoints" / which
            training_state = {"optimizers": optimizers, RANK_RNG_KEY: rng}
            save_checkpoint(folder, self.state, self.config, weights, ema, training_state)
            self.log.checkpoint(folder, which)
        self.accelerator.wait_for_everyone()  # nobody reads or restores a half-written checkpoint

    def _restore_last_good(self) -> None:
        """After too many non-finite steps in a row: reload the last checkpoint's weights, lower the LR."""
        checkpoint = load_checkpoint(self.work_dir / "checkpoints" / "last")
        for name, module in self.modules.items():
            self.accelerator.unwrap_model(module).load_state_dict(checkpoint.weights[name])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(checkpoint.training_state["optimizers"][name])
        if self.ema is not None and checkpoint.ema_weights:
            self.ema.load_state_dict(checkpoint.ema_weights[self.task.main_module], checkpoint.state.ema_updates)
        self.guard.on_restore()
        self.log.event(self.state.step, f"restored checkpoint of step {checkpoint.state.step} after NaN steps")
