"""Errors that end a command with one line for the user (the command line prints them without a traceback)."""


class NotBuiltYet(RuntimeError):
    """An entry point (or pipeline step) whose issue has not landed yet."""


class MissingComponent(RuntimeError):
    """An optional extra or a system library that the chosen setting needs is not installed; the message names it
    and the command that installs it."""


class RunConflict(RuntimeError):
    """A run that cannot be (re)entered: unknown, of another job, or still alive in another process."""


class ModelNotFound(FileNotFoundError):
    """A model URI that names nothing loadable (unknown model, version, alias or run; malformed; wrong kind)."""


class InputError(ValueError):
    """Predictor input of the wrong shape, with non-finite values or missing; the message says what is wrong
    (a 400 answer when served)."""


class TrackingUnavailable(RuntimeError):
    """The tracking server stayed unreachable longer than a job may wait; its records are kept on local disk."""


class TrainingStopped(Exception):
    """Raised by a trainer's validation callback to end training early (a sweep's pruner); not an error: the run
    ends KILLED with the tag `radiodiff.stopped` = `reason`, and the exception reaches the job's caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
