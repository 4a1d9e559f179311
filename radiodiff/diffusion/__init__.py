"""RadioDiff's constant-coefficient SDE with the pred_KC parametrisation: formulas only, no network.

process: time sampling, forward process, the network's time input; parametrisation: (F1, F2) -> (C, n) and
x0_hat; loss: the time-weighted pred_KC loss; sampler: the few-step sampler with per-sample seeds.
"""

from radiodiff.diffusion.loss import LossTerms, mse_l1, pred_kc_loss, training_loss, weight_c, weight_eps
from radiodiff.diffusion.parametrisation import ModelFn, Prediction, network_targets, precondition, predict_x0
from radiodiff.diffusion.process import (
    append_dims,
    drift,
    forward_process,
    sample_time,
    time_input,
    uniform_to_time,
)
from radiodiff.diffusion.sampler import (
    SampleResult,
    reverse_step,
    sample,
    sampling_times,
)

__all__ = [
    "LossTerms",
    "ModelFn",
    "Prediction",
    "SampleResult",
    "append_dims",
    "drift",
    "forward_process",
    "mse_l1",
    "network_targets",
    "precondition",
    "pred_kc_loss",
    "predict_x0",
    "reverse_step",
    "sample",
    "sample_time",
    "sampling_times",
    "time_input",
    "training_loss",
    "uniform_to_time",
    "weight_c",
    "weight_eps",
]
