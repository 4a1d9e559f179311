"""Where the tracking server keeps artifacts: a local folder (made absolute) or an object store URI (s3://...).

Clients upload and download through the server (proxied artifacts), so they need neither the folder nor the
object store's credentials; only the server does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import urlparse

from radiodiff.config_schema import ConfigError

# Object stores and the Python package MLflow needs for each (the server's environment must have it).
STORE_PACKAGES = {"s3": "boto3", "gs": "google-cloud-storage", "wasbs": "azure-storage-blob"}
STORE_MODULES = {"s3": "boto3", "gs": "google.cloud.storage", "wasbs": "azure.storage.blob"}


def artifacts_destination(value: str) -> str:
    """The destination passed to `mlflow server --artifacts-destination`.

    Args:
        value: a local folder (relative to the working directory) or an object-store URI such as s3://bucket/prefix.

    Raises:
        ConfigError: an object store whose client package is missing, or a URI scheme MLflow cannot proxy.
    """
    scheme = urlparse(value).scheme
    if scheme in ("", "file") or len(scheme) == 1:  # a path (a one-letter scheme is a Windows drive)
        folder = Path(urlparse(value).path if scheme == "file" else value).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder)
    if scheme not in STORE_PACKAGES:
        raise ConfigError(f"--artifacts-destination {value!r}: expected a folder or one of {sorted(STORE_PACKAGES)}://")
    if not _importable(STORE_MODULES[scheme]):
        raise ConfigError(
            f"--artifacts-destination {value}: needs {STORE_PACKAGES[scheme]}: pip install {STORE_PACKAGES[scheme]}"
        )
    return value


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package (google, azure)
        return False
