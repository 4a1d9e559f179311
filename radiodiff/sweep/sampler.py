"""TPE seeded per trial: trial n of a study always starts from the same random state, whichever process runs it.

A seeded `TPESampler` draws its random numbers from one stream per process: a resumed sweep would draw again the
startup trials it already ran, and two parallel sweep processes would draw the same ones. Seeding a fresh TPE for
each trial from (seed, trial number) keeps an uninterrupted sweep reproducible and gives every trial of a study its
own draw; the TPE model itself is fitted on the study's stored trials each time, as TPE always does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState


class TrialSeededTPESampler(BaseSampler):
    """`TPESampler(seed=f(seed, trial number))` for each trial (TPE's other settings are its defaults)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._tpe = TPESampler(seed=seed)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        # A 32-bit seed from both numbers (numpy's SeedSequence mixes them; no two trials share a stream).
        trial_seed = int(np.random.SeedSequence([self.seed, trial.number]).generate_state(1)[0])
        self._tpe = TPESampler(seed=trial_seed)
        self._tpe.before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._tpe.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._tpe.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self._tpe.after_trial(study, trial, state, values)
