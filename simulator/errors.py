"""The project's exceptions, in one place.

Every error a user can cause (a bad scenario file, a malformed game instance, a trace that is
not a uavtwin trace) is raised as a subclass of :class:`UavtwinError` whose message is one
self-contained line naming the file, line and key at fault. The command-line interface prints
that line and exits with status 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UavtwinError(Exception):
    """Base class of every user-facing uavtwin error."""


class ScenarioError(UavtwinError):
    """A scenario file or a ``--set`` override is invalid.

    Attributes:
        all_errors: every problem found, one line each (the message shows the first).
    """

    def __init__(self, message: str, *, all_errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.all_errors = list(all_errors) if all_errors else [message]


class TraceError(UavtwinError):
    """A trace file is missing, not a uavtwin trace, or of an unsupported schema version."""


class InputError(UavtwinError):
    """An input file other than a scenario (game instance, parameter file) is invalid."""
