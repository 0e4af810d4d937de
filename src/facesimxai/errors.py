"""The one base class of errors a user fixes in their input, not in the code."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message names the file, row, index or config key and what to do.

    Rule scripts report these as one line (``logs.rule_logging``); a traceback would only bury
    the message. Any other exception is a bug and keeps its traceback.
    """
