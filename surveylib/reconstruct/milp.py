"""Integer cell counts meeting published figures, by mixed-integer linear programming (HiGHS).

A :class:`CountProblem` holds integer variables (cell counts) with bounds, a prior (real-valued
expected counts) and linear rows tagged with the target id they come from.  :func:`solve`
minimises the L1 distance to the prior subject to all rows, with ``scipy.optimize.milp``.
When the rows are infeasible, :func:`conflicting_targets` runs a deletion filter over the target
tags and returns an irreducible conflicting subset, which the caller turns into a
:class:`~surveylib.errors.ReconstructionError` quoting the published figures.

Share and mean figures are linear in the counts: with ``num`` the counted cells and ``den`` the
cells of the domain, ``lower * den.x <= num.x < upper * den.x``.  The strict upper side (round
half up) is imposed as ``(num - upper*den).x <= -STRICT``; every solution is re-checked on the
integer counts after rounding.

How far the solver goes is set per configuration by :func:`solver_options`: the shipped
reconstruction (``prior_noise`` 0) is solved to HiGHS' default optimality gap; a draw of a
multiple reconstruction (a randomly perturbed prior) stops within :data:`DRAW_GAP` of the
optimum and after at most :data:`DRAW_NODES` branch-and-bound nodes, so that whether a draw
succeeds does not depend on the machine's load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from ..errors import ReconstructionError

STRICT = 1e-5
_CHECK_TOL = 1e-9
#: Relative optimality gap of a draw's integer problems (its objective, the L1 distance from a
#: prior multiplied by log-normal noise of sd 0.3 or more, is itself random, so proving the
#: last 1% of it buys nothing; proving it took > 60 s in about one draw in eight).
DRAW_GAP = 0.01
#: Branch-and-bound nodes allowed per problem of a draw: a deterministic limit in place of the
#: wall-clock one, whose outcome would depend on the machine's load.
DRAW_NODES = 20_000


def solver_options(cfg) -> dict:
    """Keyword options of :func:`solve` / :func:`feasible` for configuration ``cfg``.

    ``time_limit`` is the ``solver_time_limit`` knob.  With ``prior_noise > 0`` (a draw of
    :mod:`surveylib.reconstruct.draws`) also ``mip_rel_gap`` = :data:`DRAW_GAP`,
    ``node_limit`` = :data:`DRAW_NODES` and ``explain=False`` (an infeasible draw is redrawn,
    so the search for the conflicting figures is skipped).
    """
    opts: dict = {"time_limit": float(cfg.get("solver_time_limit", 60.0))}
    if float(cfg.get("prior_noise", 0.0) or 0.0) > 0:
        opts.update(mip_rel_gap=DRAW_GAP, node_limit=DRAW_NODES, explain=False)
    return opts


@dataclass
class CountProblem:
    """Integer variables with bounds, a prior and tagged linear rows ``lo <= a.x <= hi``."""

    names: list
    prior: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    rows: list = field(default_factory=list)  # (tag, coef ndarray, lo, hi)

    @classmethod
    def empty(cls, names, prior, ub, lb=None):
        n = len(names)
        prior = np.asarray(prior, dtype=float).reshape(n)
        ub = np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy()
        lb = np.zeros(n) if lb is None else np.broadcast_to(np.asarray(lb, float), (n,)).copy()
        return cls(list(names), prior, lb, ub)

    @property
    def nvar(self) -> int:
        return len(self.names)

    def add(self, tag: str, coef, lo: float = -np.inf, hi: float = np.inf) -> None:
        coef = self._pad(coef)
        self.rows.append((tag, coef, float(lo), float(hi)))

    def add_share(self, tag: str, num, den, lower: float, upper: float, *,
                  strict_upper: bool = True) -> None:
        """``lower <= num.x / den.x < upper`` (``upper`` inclusive if not ``strict_upper``)."""
        num, den = self._pad(num), self._pad(den)
        if np.isfinite(lower):
            self.add(tag, num - lower * den, lo=0.0)
        if np.isfinite(upper):
            self.add(tag, num - upper * den, hi=-STRICT if strict_upper else 0.0)

    def _pad(self, coef) -> np.ndarray:
        """Coefficients for the first variables, zero for any trailing auxiliary ones."""
        coef = np.asarray(coef, dtype=float).reshape(-1)
        if coef.size > self.nvar:
            raise ValueError(f"{coef.size} coefficients for {self.nvar} variables")
        return np.concatenate([coef, np.zeros(self.nvar - coef.size)])

    def add_equal(self, tag: str, coef, value: float) -> None:
        self.add(tag, coef, lo=value, hi=value)

    def tags(self) -> list:
        seen: dict = {}
        for tag, *_ in self.rows:
            seen.setdefault(tag, None)
        return list(seen)


def _run(problem: CountProblem, keep: set | None, *, objective: bool, time_limit: float,
         terms=None, mip_rel_gap: float | None = None, node_limit: int | None = None):
    """Solve with HiGHS.  ``terms`` = [(G, target, weight)]: minimise sum weight*|G x - target|
    (default: the identity against the prior)."""
    rows = [r for r in problem.rows if keep is None or r[0] in keep]
    n = problem.nvar
    if objective:
        if terms is None:
            terms = [(np.eye(n), problem.prior, 1.0)]
        g = np.vstack([np.asarray(t[0], float).reshape(-1, n) for t in terms])
        target = np.concatenate([np.asarray(t[1], float).reshape(-1) for t in terms])
        wts = np.concatenate([np.full(len(np.asarray(t[1]).reshape(-1)), float(t[2]))
                              for t in terms])
        k = len(target)
        # variables [x, t]; t_j >= |g_j x - target_j|
        c = np.concatenate([np.zeros(n), wts])
        eye = np.eye(k)
        a_abs = np.vstack([np.hstack([g, -eye]), np.hstack([-g, -eye])])
        abs_lo = np.full(2 * k, -np.inf)
        abs_hi = np.concatenate([target, -target])
        integrality = np.concatenate([np.ones(n), np.zeros(k)])
        bounds = Bounds(np.concatenate([problem.lb, np.zeros(k)]),
                        np.concatenate([problem.ub, np.full(k, np.inf)]))
        width = n + k
    else:
        c = np.zeros(n)
        integrality = np.ones(n)
        bounds = Bounds(problem.lb, problem.ub)
        width = n
    constraints = []
    if rows:
        a = np.zeros((len(rows), width))
        a[:, :n] = np.vstack([r[1] for r in rows])
        constraints.append(LinearConstraint(csr_array(a), [r[2] for r in rows],
                                            [r[3] for r in rows]))
    if objective:
        constraints.append(LinearConstraint(csr_array(a_abs), abs_lo, abs_hi))
    options = {"time_limit": time_limit, "presolve": True}
    if mip_rel_gap is not None:
        options["mip_rel_gap"] = float(mip_rel_gap)
    if node_limit is not None:
        options["node_limit"] = int(node_limit)
    res = milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
               options=options)
    return res


def _stopped(res, node_limit: int | None) -> bool:
    """The solver stopped at its time or node limit (not at an optimum or a proof)."""
    nodes = getattr(res, "mip_node_count", None)
    return res.status == 1 or (node_limit is not None and res.status != 0
                               and nodes is not None and nodes >= node_limit)


def feasible(problem: CountProblem, keep: set | None = None, *, time_limit: float = 60.0,
             node_limit: int | None = None, mip_rel_gap: float | None = None,
             explain: bool = True) -> bool:
    """Whether integer counts meet every row (of the tags in ``keep``).

    ``mip_rel_gap`` and ``explain`` do not apply to a feasibility check; they are accepted so
    that :func:`solver_options` can be passed as it is.
    """
    res = _run(problem, keep, objective=False, time_limit=time_limit, node_limit=node_limit)
    if _stopped(res, node_limit):
        raise ReconstructionError(
            "the feasibility check hit its time or node limit; raise solver_time_limit in the "
            "config."
        )
    return res.status == 0


def conflicting_targets(problem: CountProblem, *, time_limit: float = 60.0) -> list:
    """A minimal set of row tags that cannot hold together (deletion filter, IIS-like)."""
    keep = list(problem.tags())
    for tag in list(keep):
        trial = set(keep) - {tag}
        if not feasible(problem, trial, time_limit=time_limit):
            keep.remove(tag)
    return keep


def check_solution(problem: CountProblem, x: np.ndarray) -> list:
    """Tags of rows violated by integer counts ``x`` (empty when all hold)."""
    bad = []
    for tag, coef, lo, hi in problem.rows:
        v = float(coef @ x)
        if v < lo - _CHECK_TOL * max(1.0, abs(lo)) or v > hi + _CHECK_TOL * max(1.0, abs(hi)):
            bad.append(tag)
    return sorted(set(bad))


def solve(problem: CountProblem, *, describe=None, context: str = "",
          time_limit: float = 60.0, terms=None, mip_rel_gap: float | None = None,
          node_limit: int | None = None, explain: bool = True) -> np.ndarray:
    """Integer counts meeting every row, at minimum L1 distance from the prior.

    ``terms`` replaces the objective by a weighted L1 distance of linear functionals from
    targets (see ``_run``).  ``describe(tags) -> str`` renders conflicting tags (target ids
    with their quotes) for the error message; with ``explain=False`` an infeasible problem
    raises without searching for them.  ``mip_rel_gap`` and ``node_limit`` (default: HiGHS'
    own, no node limit) are set by :func:`solver_options` for a draw.
    """
    res = _run(problem, None, objective=True, time_limit=time_limit, terms=terms,
               mip_rel_gap=mip_rel_gap, node_limit=node_limit)
    if _stopped(res, node_limit):
        raise ReconstructionError(
            f"{context}: HiGHS hit the time limit of {time_limit}s"
            + (f" or the node limit of {node_limit}" if node_limit is not None else "")
            + " before proving optimality; raise solver_time_limit in the config."
        )
    if (res.status != 0 or res.x is None) and not explain:
        raise ReconstructionError(f"{context}: no integer microdata meet these published "
                                  f"figures together ({res.message}).")
    if res.status != 0 or res.x is None:
        tags = conflicting_targets(problem, time_limit=time_limit)
        text = describe(tags) if describe is not None else ", ".join(tags)
        raise ReconstructionError(
            f"{context}: no integer microdata meet these published figures together "
            f"(an irreducible conflicting set): {text}. Resolve the conflict in the "
            "ReconstructionConfig (see docs/reconstruction.md) or widen a tolerance."
        )
    x = np.rint(res.x[: problem.nvar]).astype(np.int64)
    bad = check_solution(problem, x)
    if bad:
        raise ReconstructionError(
            f"{context}: the solver's rounded counts violate {bad}; this is a numerical "
            "tolerance problem, report it with the configuration used."
        )
    return x
