"""Small real pyfunc models for registry tests: a constant model tells the loaded version apart."""

from __future__ import annotations

import mlflow


class ConstantModel(mlflow.pyfunc.PythonModel):
    """A pyfunc model that predicts its constant for every row: tells the loaded version apart."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, context, model_input: list[float], params=None) -> list[float]:  # hinted: MLflow warns otherwise
        return [self.value] * len(model_input)


def log_constant_model(value: float) -> str:
    """Log a ConstantModel in a run of its own; returns the logged model's URI."""
    with mlflow.start_run():
        return mlflow.pyfunc.log_model(name="model", python_model=ConstantModel(value), pip_requirements=[]).model_uri
