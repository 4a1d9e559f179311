"""A real PostgreSQL cluster on loopback and a real `radiodiff server` on it, with plain-HTTP REST calls (tests only).

cluster = PostgresCluster.start()             # initdb + pg_ctl in a temp dir, a free port on 127.0.0.1
server = TrackingServer(cluster.create_database("t1"), tmp_path / "mlartifacts")
server.start()                                 # returns once GET /health answers
server.stop(); server.restart()                # SIGTERM (then SIGKILL) the group; same port and store
"""

from __future__ import annotations

import base64
import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from serving_helpers import free_port

START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb (Debian's layout), else initdb's folder on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PostgresCluster:
    """A throw-away PostgreSQL cluster: user postgres, loopback TCP and a socket in its folder; trust authentication,
    or with `password` a password (scram-sha-256) over TCP.

    Run as root, initdb and the server run as the unprivileged `postgres` user (initdb refuses root), which owns
    the folder; otherwise they run as the current user.
    """

    def __init__(self, bin_dir: Path, folder: Path, port: int, password: str | None = None) -> None:
        self.bin_dir, self.folder, self.port, self.password = bin_dir, folder, port, password
        self.data = folder / "data"

    @classmethod
    def start(cls, bin_dir: Path | None = None, password: str | None = None) -> PostgresCluster:
        bin_dir = bin_dir or postgres_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL server binaries not found (apt-get install postgresql)")
        folder = Path(tempfile.mkdtemp(prefix="radiodiff-pg-"))  # under /tmp: reachable by the postgres user
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        cluster = cls(bin_dir, folder, free_port(), password)
        authentication = ["--auth=trust"]
        if password:
            (folder / "password").write_text(password)
            authentication = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={folder / 'password'}"]
        cluster._run("initdb", "-D", str(cluster.data), "-U", "postgres", *authentication, "-E", "UTF8")
        options = f"-k {folder} -h 127.0.0.1 -p {cluster.port}"
        cluster._run("pg_ctl", "-D", str(cluster.data), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
        return cluster

    def uri(self, name: str) -> str:
        """The tracking-store URI of database `name`."""
        user = f"postgres:{self.password}" if self.password else "postgres"
        return f"postgresql+psycopg2://{user}@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        """CREATE DATABASE name; returns its URI."""
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", password=self.password, dbname="postgres"
        )
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.uri(name)

    def client(self, tool: str, *args: str) -> None:
        """A PostgreSQL client tool (pg_dump, pg_restore, ...) as the postgres role over loopback TCP."""
        command = [str(self.bin_dir / tool), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", *args]
        env = {**os.environ, **({"PGPASSWORD": self.password} if self.password else {})}
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        assert done.returncode == 0, f"{tool}: {done.stderr}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the cluster's folder."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd=self.folder, capture_output=True, text=True)
        if done.returncode != 0:
            log = self.folder / "server.log"
            raise RuntimeError(f"{tool} failed: {done.stderr}{log.read_text() if log.exists() else ''}")


class TrackingServer:
    """`radiodiff server` (the product command) in its own process group on a free loopback port.

    Args:
        backend_uri: the tracking database (e.g. PostgresCluster.create_database(...)).
        artifacts_dir: the proxied artifacts destination.
        auth: switch MLflow's basic auth on; `admin` = (username, password) is passed as MLFLOW_AUTH_ADMIN_*.
        extra_args: more `radiodiff server` options.
        env: more environment variables for the server.
        port: the port (default: a free one).
    """

    def __init__(
        self,
        backend_uri: str,
        artifacts_dir: Path,
        *,
        auth: bool = False,
        admin: tuple[str, str] = ("admin", "admin-password-1234"),
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.backend_uri, self.artifacts_dir, self.auth, self.admin = backend_uri, Path(artifacts_dir), auth, admin
        self.extra_args, self.env = extra_args, env or {}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = Path(tempfile.mkdtemp(prefix="radiodiff-server-"))
        self.log = self.state_dir / "server.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "radiodiff", "server", "--backend-store-uri", self.backend_uri,
                   "--artifacts-destination", str(self.artifacts_dir), "--port", str(self.port), "--workers", "1",
                   "--state-dir", str(self.state_dir), *self.extra_args]  # fmt: skip
        return [*command, "--auth"] if self.auth else command

    def start(self) -> TrackingServer:
        """Start the server and return once GET /health answers (AssertionError with its output otherwise)."""
        env = {**os.environ, **self.env}
        env.pop("MLFLOW_TRACKING_URI", None)  # the server's store is its backend URI, never a client setting
        if self.auth:
            env |= {"MLFLOW_AUTH_ADMIN_USERNAME": self.admin[0], "MLFLOW_AUTH_ADMIN_PASSWORD": self.admin[1]}
        with self.log.open("a") as log:
            self.process = subprocess.Popen(self.command(), cwd=self.state_dir, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self._wait_healthy()
        return self

    def stop(self) -> None:
        """SIGTERM the server's process group; SIGKILL what is left of it after STOP_TIMEOUT_S."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):  # a hung leader, or a worker that outlived it
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def restart(self) -> TrackingServer:
        """Stop, then start again on the same port, database and artifacts."""
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def client_env(self, user: tuple[str, str] | None = None) -> dict[str, str]:
        """The environment a client process needs: MLFLOW_TRACKING_URI (+ MLFLOW_TRACKING_USERNAME/PASSWORD)."""
        env = {"MLFLOW_TRACKING_URI": self.url}
        if user:
            env |= {"MLFLOW_TRACKING_USERNAME": user[0], "MLFLOW_TRACKING_PASSWORD": user[1]}
        return env

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"radiodiff server exited ({self.process.returncode}):\n{self.output()[-4000:]}")
            if request(self.url, "GET", "/health", timeout=2)[0] == 200:
                return
            time.sleep(0.5)
        output = self.output()[-4000:]
        self.stop()
        raise AssertionError(f"radiodiff server did not answer /health within {START_TIMEOUT_S} s:\n{output}")


def request(
    base_url: str,
    method: str,
    path: str,
    body: dict | None = None,
    query: str = "",
    user: tuple[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict | str]:
    """One plain-HTTP call; returns (status, decoded JSON or text). 0 when nothing answers."""
    data = json.dumps(body).encode() if body is not None else None
    url = f"{base_url}{path}" + (f"?{query}" if query else "")
    call = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if user:
        token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
        call.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as err:
        return err.code, _decode(err.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def _decode(raw: bytes) -> dict | str:
    text = raw.decode(errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def rest(server: TrackingServer, method: str, path: str, body: dict | None = None, query: str = "",
         user: tuple[str, str] | None = None) -> dict:  # fmt: skip
    """A REST call that must succeed (status 200); returns its JSON."""
    status, answer = request(server.url, method, path, body, query, user)
    assert status == 200, f"{method} {path}: {status} {answer}"
    return answer


def runs_of(server: TrackingServer, entry_point: str, user: tuple[str, str] | None = None) -> list[dict]:
    """Every run (all experiments) tagged with radiodiff.entry_point = entry_point, through /runs/search."""
    experiments = rest(server, "POST", "/api/2.0/mlflow/experiments/search", {"max_results": 1000}, user=user)
    body = {
        "experiment_ids": [e["experiment_id"] for e in experiments["experiments"]],
        "filter": f"tags.`radiodiff.entry_point` = '{entry_point}'",
    }
    return rest(server, "POST", "/api/2.0/mlflow/runs/search", body, user=user).get("runs", [])


def metric_steps(server: TrackingServer, run_id: str, key: str, user: tuple[str, str] | None = None) -> list[int]:
    """Steps of a metric's history (duplicates kept, in step order), through /metrics/get-history."""
    query = urllib.parse.urlencode({"run_id": run_id, "metric_key": key})
    answer = rest(server, "GET", "/api/2.0/mlflow/metrics/get-history", query=query, user=user)
    return sorted(int(m.get("step", 0)) for m in answer.get("metrics", []))


def artifact_paths(
    server: TrackingServer, run_id: str, path: str = "", user: tuple[str, str] | None = None
) -> set[str]:
    """Every artifact file of a run under `path`, through /artifacts/list (recursively)."""
    query = urllib.parse.urlencode({"run_id": run_id, **({"path": path} if path else {})})
    found: set[str] = set()
    for entry in rest(server, "GET", "/api/2.0/mlflow/artifacts/list", query=query, user=user).get("files", []):
        if entry.get("is_dir"):
            found |= artifact_paths(server, run_id, entry["path"], user)
        else:
            found.add(entry["path"])
    return found
