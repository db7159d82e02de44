"""Errors that reach the user as one line on stderr."""


class SlimscopeError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 2


class BadInput(SlimscopeError):
    """The image, archive, file or option the user named cannot be used (exit 2)."""


class EngineUnavailable(BadInput):
    """No Docker engine answers where one is needed."""


class CheckFailed(SlimscopeError):
    """A gate or a verification ran and failed (exit 1)."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM (what CI runners send on cancel), raised like Ctrl-C so the same
    clean-up runs; the CLI answers it with exit code 143."""
