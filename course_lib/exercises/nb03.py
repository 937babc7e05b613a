"""Exercises of notebook 03."""
from __future__ import annotations

from .checking import Exercise

EXERCISES: list[Exercise] = []
