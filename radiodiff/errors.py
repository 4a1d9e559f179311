"""Errors that end a command with one line for the user (the command line prints them without a traceback)."""


class NotBuiltYet(RuntimeError):
    """An entry point (or pipeline step) whose issue has not landed yet."""
