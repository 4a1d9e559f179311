"""Evaluation: metrics, the evaluate job and the model registry."""
