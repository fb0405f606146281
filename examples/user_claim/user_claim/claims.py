"""Two hand-derived variants of K2's upper bound on the hitting time K_t(d), stated with
the registry's SymPy symbols (no strings: every relation is built here as a SymPy object).

K2 (the registry) says, under S1's hypotheses and alpha^N < d < t,

    K_t(d) <= ceil(rho(t) tau_t(alpha^N, d) / eta).

``TIGHT_FLOW`` drops the factor rho(t) >= 1 and pays one step instead:
K_t(d) <= ceil(tau/eta) + 1. It is false: for a large step the discrete iteration lags the
gradient flow by far more than one step (K1 only gives K >= tau/eta).

``K2_RESTATED`` is K2's bound written out by hand; it holds.
"""

import sympy as sp

from bounds import N, alpha, d, eta, get_claim, t
from verify.inequality import K_t
from verify.userclaims import UserClaim

tau, rho = sp.Function("tau"), sp.Function("rho")

#: K2's hypotheses, as the registry states them (S1's and alpha^N < d < t)
HYPOTHESES = tuple(h.relation for h in get_claim("K2").hypotheses)

K2_RESTATED = UserClaim(
    "USER.K2", "hitting_time_le_ceil_rho_flow_time",
    sp.Le(K_t(d), sp.ceiling(rho(t) * tau(alpha**N, d) / eta)), HYPOTHESES, spec="K2",
    statement="K_t(d) <= ceil(rho(t) tau_t(alpha^N, d)/eta) (K2 restated by hand)")

TIGHT_FLOW = UserClaim(
    "USER.K2-tight", "hitting_time_le_ceil_flow_time_add_one",
    sp.Le(K_t(d), sp.ceiling(tau(alpha**N, d) / eta) + 1), HYPOTHESES, spec="K2",
    statement="K_t(d) <= ceil(tau_t(alpha^N, d)/eta) + 1 (a tighter variant: false)")

CLAIMS = (K2_RESTATED, TIGHT_FLOW)
