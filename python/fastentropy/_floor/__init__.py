"""The entropy floor: the pipeline that estimates it (``estimate``), the floor and its per-order
report (``Floor``, ``OrderReport``), its text report (``report``), figure (``plot``) and the
demonstrations on sources of known entropy (``demo``)."""

from .estimate import DEFAULT_METHODS, RULE, Floor, OrderReport, Value, estimate_floor

__all__ = ["DEFAULT_METHODS", "RULE", "Floor", "OrderReport", "Value", "estimate_floor"]
