"""`radiodiff server`: the team tracking server, `mlflow server` on a SQL database (PostgreSQL for a team) with
proxied artifact storage and MLflow's basic-auth app switchable on.

The modules only check the settings and build the `mlflow server` command line; nothing here imports mlflow
(the server runs in the `mlflow server` process this command turns into).
"""
