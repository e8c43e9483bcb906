"""The entropy floor, in rooms: the floor and its per-order report (``model``), the pipeline that
estimates it (``estimate``), its text report (``report``), its figure (``plot``), the
literature's figures for English (``references``) and the demonstrations on sources of known
entropy (``demo``)."""

from .estimate import DEFAULT_METHODS, estimate_floor
from .model import RULE, Floor, OrderReport, Value

__all__ = ["DEFAULT_METHODS", "RULE", "Floor", "OrderReport", "Value", "estimate_floor"]
