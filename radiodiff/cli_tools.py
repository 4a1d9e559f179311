"""The `radiodiff` sub-commands that take no training config (`server`, `sync`): each declares its own arguments
and returns an exit status. `radiodiff.cli` parses and runs them beside the entry points' commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    """A sub-command without a training config: its help, how it declares its arguments, and what it runs."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _server_arguments(parser: argparse.ArgumentParser) -> None:
    from radiodiff.server.command import add_arguments

    add_arguments(parser)


def _server(args: argparse.Namespace) -> int:
    from radiodiff.server.command import serve

    return serve(args)


def _sync_arguments(parser: argparse.ArgumentParser) -> None:
    from radiodiff.config import TrackingConfig

    parser.add_argument("run_id", help="the run whose waiting records to send")
    default = TrackingConfig().outage_wait_s
    parser.add_argument("--wait-s", "--wait_s", dest="wait_s", type=float, default=default,
                        help=f"give up after this many seconds without the server (default {default})")  # fmt: skip


def _sync(args: argparse.Namespace) -> int:
    from radiodiff.tracking.sync import sync_run

    sent = sync_run(args.run_id, args.wait_s)
    print(f"radiodiff sync: {f'sent {sent} records of' if sent else 'nothing waits for'} run {args.run_id}")
    return 0


TOOLS: dict[str, Tool] = {
    "sync": Tool(
        "send the metrics, images and checkpoints a run left on this machine while its tracking server was away",
        _sync_arguments,
        _sync,
    ),
    "server": Tool(
        "the team tracking server: mlflow server on PostgreSQL, proxied artifacts, optional basic auth",
        _server_arguments,
        _server,
    ),
}
