"""Starting a job on N processes of this machine through accelerate's launcher (torch.distributed underneath:
gloo on CPU, NCCL on GPU), as `radiodiff <job> --processes N` and `mlflow run ... -P processes=N` do.

Several machines are launched with accelerate itself, one launcher per machine (README, "Several processes"):
    accelerate launch --num_machines 2 --machine_rank R --main_process_ip IP --main_process_port PORT \\
        --num_processes 2N -m radiodiff train_vae ...
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Sequence

__all__ = ["in_launched_process", "launch", "launcher_command"]

_LAUNCHER_LOG = re.compile(r"^[WEI]\d{4} .*torch/distributed/")  # torch.distributed.elastic's own log lines
_ROOT_CAUSE_STATUS = re.compile(r"Root Cause.*?exitcode\s*:\s*(-?\d+)", re.DOTALL)


def in_launched_process() -> bool:
    """Whether this process is one rank of a launched job (the launcher sets LOCAL_RANK and WORLD_SIZE)."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def launcher_command(processes: int, argv: Sequence[str]) -> list[str]:
    """`python -m accelerate.commands.launch ... -m radiodiff ARGV` for `processes` processes on this machine: one
    per GPU where there are GPUs (NCCL), CPU processes (gloo) otherwise.

    Args:
        processes: number of processes (ranks), >= 2.
        argv: the radiodiff command line each process runs (without --processes).
    """
    command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(processes)]
    command += ["--num_machines", "1", "--main_process_port", str(_free_port()), "--dynamo_backend", "no"]
    command += ["--mixed_precision", "no"]  # the job's own `mixed_precision` decides (Accelerator argument)
    # --multi_gpu is accelerate's torch.distributed.run launcher; on a machine without GPUs the job itself picks
    # CPU processes (gloo). (accelerate's --cpu launcher would need MPI's mpirun for more than one process.)
    command += ["--multi_gpu"]
    return [*command, "-m", "radiodiff", *argv]


def launch(processes: int, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run the radiodiff command line `argv` on `processes` processes; returns the launcher's exit status."""
    import torch  # only the launching process needs it

    gpus = torch.cuda.device_count()
    if gpus and processes > gpus:
        print(f"radiodiff: error: --processes {processes} exceeds the {gpus} visible GPUs", file=sys.stderr)
        return 2
    return _run_launcher(launcher_command(processes, argv), {**os.environ, **(env or {})})


def _run_launcher(command: list[str], env: dict[str, str]) -> int:
    """Run the launcher, passing its processes' output through; its own failure report (a traceback of
    torch.distributed's ChildFailedError) is held back and dropped when the first rank to fail ended with exit
    status 2, i.e. a bad input that rank 0 has already reported in one line."""
    launcher = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    held: list[str] = []
    for line in launcher.stderr:
        if held or line.startswith("Traceback") or _LAUNCHER_LOG.match(line):
            held.append(line)
        else:
            sys.stderr.write(line)
    status = launcher.wait()
    report = "".join(held)
    root_cause = _ROOT_CAUSE_STATUS.search(report)
    if status != 0 and root_cause and root_cause.group(1) == "2":
        return 2
    sys.stderr.write(report)
    return status


def _free_port() -> int:
    """A free TCP port on the loopback interface for the rendezvous of this machine's processes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
