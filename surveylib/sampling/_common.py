"""The random-number convention shared by :mod:`surveylib.sampling`, and its error and warning
(:class:`~surveylib.errors.SamplingError`, :class:`~surveylib.errors.CertaintyWarning`, defined
with every other surveylib error in :mod:`surveylib.errors`)."""

from __future__ import annotations

import numpy as np

from ..errors import CertaintyWarning, SamplingError

__all__ = ["CertaintyWarning", "SamplingError", "as_generator"]  # the classes live in errors


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
