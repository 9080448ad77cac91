"""Errors a user can cause and fix (用户可纠正的错误), with one common base.

Every error that a person running the workbench can cause — a wrong parameter, a file
that is not what the contract says, a configuration typo, a model alias that does not
exist, a stage that needs another one to run first — derives from
:class:`WorkbenchError`. The CLI catches that one type and prints its message on one line
with exit code 2; anything else is a bug and keeps its traceback. (The same split as
scikit-learn's ``exceptions`` module.)

Domain modules keep their own subclasses (``CatalogError``, ``PlanError`` …) so that a
caller can catch one kind, but all of them are ``WorkbenchError``.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """An error the user can fix: the message says what is wrong and what is allowed."""


class ConfigError(WorkbenchError, ValueError):
    """A configuration file or folder that cannot be used (names the file and the key)."""


class ParameterError(WorkbenchError, ValueError):
    """A stage parameter that is malformed, missing or points at nothing."""


class NotReadyError(WorkbenchError):
    """A stage needs something that does not exist yet; the message says what to run."""


class StageFailed(WorkbenchError):
    """A stage notebook failed: the underlying message first, the notebook's path second."""
