"""Errors, warnings and the random-number convention shared by :mod:`surveylib.sampling`."""

from __future__ import annotations

import numpy as np

from ..errors import SurveyDesignError, SurveyWarning


class SamplingError(SurveyDesignError):
    """A frame, size measure, allocation or selection request cannot be used.

    Structured fields (see :class:`~surveylib.errors.SurveyDesignError`): ``parameter`` the
    argument or column, ``value`` the offending value, ``expected`` what was expected, ``hint``
    the fix; ``stratum`` the stratum at fault (``None`` when it does not apply).
    """

    def __init__(self, message: str = "", *, stratum=None, **fields):
        super().__init__(message, **fields)
        self.stratum = stratum


class CertaintyWarning(SurveyWarning):
    """Units whose size gives an inclusion probability of 1 or more were taken with certainty."""


def as_generator(seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, a Generator, or ``None`` (fresh entropy).

    Any object with a ``random(size)`` method returning uniforms in [0, 1) is accepted as it
    is (the tests feed R's ``runif`` stream this way to reproduce R's selections).
    """
    if seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if hasattr(seed, "random"):
        return seed
    raise SamplingError(
        f"seed={seed!r} is neither an integer seed nor a numpy.random.Generator; pass "
        "seed=12345 or seed=numpy.random.default_rng(12345).",
        parameter="seed", value=seed, expected="int or numpy.random.Generator",
    )
