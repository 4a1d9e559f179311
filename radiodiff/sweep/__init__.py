"""Hyper-parameter sweeps with Optuna: the search space (space.py), the study and its storage (study.py,
storage.py, sampler.py), one trial (objective.py), the best trial as files (best.py), the settings (settings.py).

No MLflow here: the job (`radiodiff.jobs.sweep`) joins these to the runs (`radiodiff.tracking.sweep_runs`).
"""
