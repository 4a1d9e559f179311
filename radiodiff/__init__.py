"""radiodiff: train, track, evaluate and serve RadioDiff radio-map models with MLflow."""

__version__ = "0.1.0"
