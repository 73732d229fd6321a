"""Variance engines: Taylor linearisation (and, later, replicate weights)."""

from .taylor import Scores, Stage, taylor_vcov

__all__ = ["Scores", "Stage", "taylor_vcov"]
