"""The training-log check: a run's loss curve read from the files trainers write, and checked
against the entropy floor of its data.

Rooms: ``log`` (the LossLog arrays), ``read`` (the log readers), ``detectors`` (epoch
boundaries and logging artefacts), ``verdict`` (:func:`check`), ``result`` (what it
returns), ``per_sample``, ``report`` (text) and ``plot`` (figure).
"""

from __future__ import annotations

from .log import FORMATS, LossLog
from .read import read_losses
from .result import Artefact, EpochBoundary, PerSample, Verdict
from .verdict import check

__all__ = [
    "FORMATS",
    "Artefact",
    "EpochBoundary",
    "LossLog",
    "PerSample",
    "Verdict",
    "check",
    "read_losses",
]
