"""What the theory says: every claim of THEORY.md as a named symbolic object.

``CLAIMS`` maps the stable claim IDs (in THEORY.md order) to :class:`bounds.claim.Claim`
objects; ``get_claim(id)`` looks one up, ``claim_ids()`` lists them.  The numeric
evaluators live in ``bounds.flow`` (S, O, K), ``bounds.lowrank`` (L) and
``bounds.perturbed`` (P); R1's symbolic gradient check lives in ``bounds.reduction``.

The statements are the team's reconstructions (docs/theory.md), not the paper's text.

>>> claim_ids()[:3]
('R1', 'S1', 'S2')
>>> get_claim('K1').name
'hitting_time_ge_flow_time_of_monotone_step'
"""

from __future__ import annotations

from types import MappingProxyType

import sympy as sp

from bounds import enclosures, flow, lowrank, momentum, perturbed
from bounds.claim import Claim, Hypothesis, Tightness

__all__ = [
    # registry
    "CLAIMS",
    "get_claim",
    "claim_ids",
    # types
    "Claim",
    "Hypothesis",
    "Tightness",
    # definitions of the quantities the statements name
    "DEFINITIONS",
    "P4_ANY_HYPOTHESES",
    # modules
    "enclosures",
    "flow",
    "lowrank",
    "momentum",
    "perturbed",
]

# ---------------------------------------------------------------------------
# symbols
# ---------------------------------------------------------------------------
N = sp.Symbol("N", integer=True, positive=True)
t, tp, d, s, e = sp.symbols("t t' d s e", real=True)
alpha, eta = sp.symbols("alpha eta", positive=True)
eps, theta = sp.symbols("epsilon theta", real=True)
beta = sp.Symbol("beta", real=True)
k, K = sp.symbols("k K_t", integer=True)
s1, s_r, s_r1, t1, t_r = sp.symbols("s_1 s_r s_r+1 t_1 t_r", real=True)
UB0, LB1, T0, T1 = sp.symbols("UB0 LB1 T0 T1", real=True)
tau_s = sp.Function("tau")
rho_f = sp.Function("rho")
J = sp.Function("J_N")
A_ = 2 - 2 / N
err = sp.Symbol("err", real=True)


def _H(name, rel, desc):
    return Hypothesis(name, rel, desc)


H_depth = _H("depth_ge_two", sp.Ge(N, 2), "depth N >= 2 (integer)")
H_alpha = _H("alpha_pos", sp.Gt(alpha, 0), "initialization scale alpha > 0")
H_eta = _H("eta_pos", sp.Gt(eta, 0), "step size eta > 0")
H_below = _H("init_below_target", sp.And(sp.Gt(alpha**N, 0), sp.Lt(alpha**N, t)), "0 < alpha^N < t")
H_step = _H("monotone_step", sp.Le(eta * N * t**A_, 1), "eta N t^A <= 1 (phi_t nondecreasing on [0, t^(1/N)])")
S1_HYPS = (H_depth, H_alpha, H_eta, H_below, H_step)

SMALL_ETA = "eta -> 0 (rho -> 1, K eta/tau -> 1)"

_CLAIMS = [
    Claim(
        "R1",
        "factors_equal_diagonal_of_symmetric_target_of_identity_init",
        "With W_j(0) = alpha I, all factors stay equal to Q diag(x_i(k)) Q^T with x_i(k+1) = phi_{t_i}(x_i(k)), x_i(0) = alpha.",
        (
            _H("target_symmetric", sp.Eq(sp.Symbol("Y"), sp.Symbol("Y^T")), "Y symmetric"),
            _H("init_scaled_identity", sp.Eq(sp.Symbol("W_j(0)"), alpha * sp.Symbol("I")), "W_j(0) = alpha I for all j"),
            H_alpha,
        ),
        "W_j(k) = Q diag(x_1(k),...,x_n(k)) Q^T for all j, k; x_i(k+1) = phi_{t_i}(x_i(k)); P(k) = Q diag(x_i(k)^N) Q^T",
        (("phi", flow.phi), ("phi_ball", enclosures.phi_ball)),
        "docs/theory.md#r1",
    ),
    Claim(
        "S1",
        "tendsto_root_monotone_of_monotone_step",
        "If 0 < alpha^N < t and eta N t^A <= 1, x_k increases strictly, stays below t^(1/N), converges to t^(1/N).",
        S1_HYPS,
        "x_k < x_{k+1} < t^(1/N) for all k and x_k -> t^(1/N)",
        (
            ("s1_hypotheses", flow.s1_hypotheses),
            ("monotone_step_bound", flow.monotone_step_bound),
        ),
        "docs/theory.md#s1",
    ),
    Claim(
        "S2",
        "not_tendsto_root_of_step_gt_two_div",
        "For 1 < eta N t^A < 2 overshoot above t^(1/N) can occur; for eta N t^A > 2 the fixed point is repelling.",
        (H_depth, H_eta, _H("target_pos", sp.Gt(t, 0), "t > 0"),
         _H("large_step", sp.Gt(eta * N * t**A_, 1), "eta N t^A > 1"),
         _H("overshoot_regime", sp.Lt(eta * N * t**A_, 2), "overshoot part: eta N t^A < 2 (fixed point attracting)"),
         _H("repelling_regime", sp.Gt(eta * N * t**A_, 2), "repelling part: eta N t^A > 2")),
        "phi_t'(t^(1/N)) = 1 - eta N t^A; |phi_t'(t^(1/N))| > 1 iff eta N t^A > 2 (repelling); overshoot possible for 1 < eta N t^A < 2",
        (
            ("s2_overshoot_regime", flow.s2_overshoot_regime),
            ("s2_repelling", flow.s2_repelling),
            ("monotone_step_bound", flow.monotone_step_bound),
        ),
        "docs/theory.md#s2",
    ),
    Claim(
        "S3",
        "tendsto_zero_antitone_of_nonpos_target",
        "If t <= 0 and eta alpha^(N-2)(alpha^N - t) < 1, x_k decreases to 0 staying positive; if 0 < t < alpha^N and eta alpha^(N-2)((2N-1)alpha^N - (N-1)t) <= 1, x_k decreases to t^(1/N).",
        (H_depth, H_alpha, H_eta,
         _H("target_nonpos", sp.Le(t, 0), "t <= 0 (first part)"),
         _H("positivity", sp.Lt(eta * alpha ** (N - 2) * (alpha**N - t), 1), "eta alpha^(N-2)(alpha^N - t) < 1"),
         _H("target_below_init", sp.And(sp.Gt(t, 0), sp.Lt(t, alpha**N)), "second part: 0 < t < alpha^N"),
         _H("decreasing_step", sp.Le(eta * alpha ** (N - 2) * ((2 * N - 1) * alpha**N - (N - 1) * t), 1),
            "second part (0 < t < alpha^N): phi_t nondecreasing on [t^(1/N), alpha]")),
        "t <= 0: 0 < x_{k+1} < x_k, x_k -> 0;  0 < t < alpha^N: t^(1/N) <= x_{k+1} <= x_k, x_k -> t^(1/N)",
        (
            ("s3_hypotheses", flow.s3_hypotheses),
            ("s3_nonpositive_condition", flow.s3_nonpositive_condition),
            ("s3_decreasing_step_bound", flow.s3_decreasing_step_bound),
            ("s3_positivity_step_bound", flow.s3_positivity_step_bound),
            ("s3_positivity_step_bound_ball", enclosures.s3_positivity_step_bound_ball),
            ("s3_decreasing_step_bound_ball", enclosures.s3_decreasing_step_bound_ball),
        ),
        "docs/theory.md#s3",
    ),
    Claim(
        "O1",
        "trajectory_le_of_target_le_of_monotone_step",
        "Same alpha, t <= t', step bound for t' (and the t-trajectory positive): x_k(t) <= x_k(t') for all k.",
        (H_depth, H_alpha, H_eta,
         _H("target_le", sp.Le(t, tp), "t <= t'"),
         _H("init_le_target", sp.Le(alpha**N, tp), "alpha^N <= t'"),
         _H("monotone_step_prime", sp.Le(eta * N * tp**A_, 1), "eta N t'^A <= 1"),
         _H("positivity", sp.Or(sp.Ge(t, 0), sp.Lt(eta * alpha ** (N - 2) * (alpha**N - t), 1)),
            "t >= 0 or the S3 positivity condition")),
        "x_k(t) <= x_k(t') for all k",
        (
            ("o1_hypotheses", flow.o1_hypotheses),
            ("monotone_step_bound", flow.monotone_step_bound),
            ("s3_positivity_step_bound", flow.s3_positivity_step_bound),
            ("s3_positivity_step_bound_ball", enclosures.s3_positivity_step_bound_ball),
        ),
        "docs/theory.md#o1",
    ),
    Claim(
        "K1",
        "hitting_time_ge_flow_time_of_monotone_step",
        "If alpha^N < d <= t(N-1)/(2N-1) and S1's hypotheses hold, K_t(d) >= tau_t(alpha^N, d)/eta.",
        S1_HYPS + (_H("level_in_increasing_range",
                      sp.And(sp.Lt(alpha**N, d), sp.Le(d, t * (N - 1) / (2 * N - 1))),
                      "alpha^N < d <= t (N-1)/(2N-1): h_t increasing below the level"),),
        sp.Ge(K, tau_s(alpha**N, d) / eta),
        (
            ("k1_hypotheses", flow.k1_hypotheses),
            ("k1_lower", flow.k1_lower),
            ("k1_lower_ball", enclosures.k1_lower_ball),
            ("monotone_step_bound", flow.monotone_step_bound),
            ("tau", flow.tau),
        ),
        "docs/theory.md#k1",
        (Tightness("ratio", "k1_lower", 0.99, SMALL_ETA, invert=True, loosen=1 / 1.02),),
    ),
    Claim(
        "K2",
        "hitting_time_le_ceil_rho_flow_time_of_monotone_step",
        "For alpha^N < d < t under S1's hypotheses, K_t(d) <= ceil(rho(t) tau_t(alpha^N, d)/eta).",
        S1_HYPS + (_H("level_below_target", sp.And(sp.Lt(alpha**N, d), sp.Lt(d, t)), "alpha^N < d < t"),),
        sp.Le(K, sp.ceiling(rho_f(t) * tau_s(alpha**N, d) / eta)),
        (
            ("k2_hypotheses", flow.k2_hypotheses),
            ("k2_upper_real", flow.k2_upper_real),
            ("k2_upper_real_ball", enclosures.k2_upper_real_ball),
            ("monotone_step_bound", flow.monotone_step_bound),
            ("rho", flow.rho),
            ("tau", flow.tau),
        ),
        "docs/theory.md#k2",
        (Tightness("ratio", "k2_upper_real", 0.99, SMALL_ETA),),
    ),
    Claim(
        "K3",
        "flow_time_bounds_elementary_of_depth_ge_three",
        "For N >= 3: (alpha^-(N-2) - d^-((N-2)/N))/((N-2)t) <= tau_t(alpha^N, d) and tau_t(alpha^N,(1-eps)t) <= alpha^-(N-2)/((N-2)t) + J_N(eps)/(N t^A).",
        (_H("depth_ge_three", sp.Ge(N, 3), "N >= 3"), H_alpha,
         _H("level_below_target", sp.And(sp.Lt(alpha**N, d), sp.Lt(d, t)), "alpha^N < d < t"),
         _H("eps_unit", sp.And(sp.Gt(eps, 0), sp.Lt(eps, 1)), "0 < eps < 1")),
        sp.Le((alpha ** (-(N - 2)) - d ** (-(N - 2) / N)) / ((N - 2) * t), tau_s(alpha**N, d)),
        (
            ("k3_hypotheses", flow.k3_hypotheses),
            ("k3_lower", flow.k3_lower),
            ("k3_upper", flow.k3_upper),
            ("k3_lower_ball", enclosures.k3_lower_ball),
            ("k3_upper_ball", enclosures.k3_upper_ball),
            ("tau_ball", enclosures.tau_ball),
            ("tau", flow.tau),
            ("J_N", flow.J_N),
        ),
        "docs/theory.md#k3",
        (Tightness("ratio", "k3_upper", 0.99, "alpha -> 0 (N >= 3)"),
         Tightness("lower/tau_d", "k3_lower", 0.99, "alpha -> 0 (N >= 3)", loosen=1 / 1.02)),
    ),
    Claim(
        "L1",
        "interval_nonempty_of_spectral_condition",
        "E = 0: T0 <= UB0 and T1 >= LB1; UB0 <= LB1 implies the low-rank interval [T0, T1] is nonempty.",
        (H_depth, H_alpha, H_eta,
         _H("spectral_gap", sp.Gt(s_r, s_r1), "s_r > s_{r+1}"),
         _H("eps_unit", sp.And(sp.Gt(eps, 0), sp.Lt(eps, 1)), "0 < eps < 1"),
         _H("threshold_ge_init", sp.Ge(theta, alpha**N), "theta >= alpha^N"),
         _H("init_below_learned", sp.Lt(alpha**N, (1 - eps) * s_r), "alpha^N < (1-eps) s_r"),
         _H("monotone_step", sp.Le(eta * N * s1**A_, 1), "eta N s_1^A <= 1"),
         _H("spectral_condition", sp.Le(UB0, LB1), "UB0 <= LB1")),
        sp.Le(T0, T1),
        (
            ("l1_hypotheses", lowrank.l1_hypotheses),
            ("ub0_real", lowrank.ub0_real),
            ("lb1_real", lowrank.lb1_real),
            ("ub0_real_ball", enclosures.ub0_real_ball),
            ("lb1_real_ball", enclosures.lb1_real_ball),
            ("spectral_condition", lowrank.spectral_condition),
            ("monotone_step_bound", flow.monotone_step_bound),
        ),
        "docs/theory.md#l1",
        (Tightness("ratio", "ub0_real", 0.99, SMALL_ETA),
         Tightness("T1/LB1", "lb1_real", 0.99, SMALL_ETA + ", theta below s_r+1 (N-1)/(2N-1)",
                   invert=True, loosen=1 / 1.02)),
    ),
    Claim(
        "L2",
        "error_le_max_of_mem_interval",
        "For k in [T0, T1], ||P(k) - W_r||_2 <= max(eps s_1, theta).",
        (H_depth, H_alpha, H_eta,
         _H("monotone_step", sp.Le(eta * N * s1**A_, 1), "eta N s_1^A <= 1"),
         _H("in_interval", sp.And(sp.Le(T0, k), sp.Le(k, T1)), "T0 <= k <= T1")),
        sp.Le(err, sp.Max(eps * s1, theta)),
        (
            ("l1_hypotheses", lowrank.l1_hypotheses),
            ("l2_error_bound", lowrank.l2_error_bound),
            ("l2_error_bound_ball", enclosures.l2_error_bound_ball),
            ("monotone_step_bound", flow.monotone_step_bound),
        ),
        "docs/theory.md#l2",
        (Tightness("ratio", "l2_error_bound", 0.99, "eta -> 0, eps s_1 >= theta: the error at T0 is ~ eps s_1"),),
    ),
    Claim(
        "L3",
        "interval_nonempty_of_ratio_gt_rho",
        "s_r/s_{r+1} >= explicit threshold (-> rho(s_r)(1 + O(alpha^(N-2))) for N >= 3, 1 + O(ln(1/eps)/ln(1/alpha^2)) correction for N = 2) implies UB0 <= LB1.",
        (H_depth, H_alpha, H_eta,
         _H("spectral_gap", sp.Gt(s_r, s_r1), "s_r > s_{r+1}"),
         _H("eps_unit", sp.And(sp.Gt(eps, 0), sp.Lt(eps, 1)), "0 < eps < 1"),
         _H("threshold_ge_init", sp.Ge(theta, alpha**N), "theta >= alpha^N"),
         _H("init_below_learned", sp.Lt(alpha**N, (1 - eps) * s_r), "alpha^N < (1-eps) s_r"),
         _H("monotone_step", sp.Le(eta * N * s1**A_, 1), "eta N s_1^A <= 1"),
         _H("ratio_condition", sp.Ge(s_r, sp.Symbol("R_L3") * s_r1),
            "s_r >= R s_{r+1}, R = l3_ratio_threshold (s_r/s_{r+1} >= R; holds when s_{r+1} = 0)")),
        sp.Le(UB0, LB1),
        (
            ("l3_sufficient", lowrank.l3_sufficient),
            ("l3_ratio_threshold", lowrank.l3_ratio_threshold),
            ("l3_ratio_threshold_ball", enclosures.l3_ratio_threshold_ball),
            ("l1_hypotheses", lowrank.l1_hypotheses),
            ("ub0_real_ball", enclosures.ub0_real_ball),
            ("lb1_real_ball", enclosures.lb1_real_ball),
            ("spectral_condition", lowrank.spectral_condition),
            ("monotone_step_bound", flow.monotone_step_bound),
        ),
        "docs/theory.md#l3",
        (Tightness("c*/(s_r/s_r+1)", "l3_ratio_threshold", 0.99,
                   "alpha -> 0 (N >= 3), s_r/s_{r+1} just above the threshold: c* (the exact "
                   "ratio at which UB0 <= LB1 flips) over the instance's ratio"),),
    ),
    Claim(
        "P1",
        "tendsto_pos_part_of_step_bound",
        "With eta <= 1/(N max(t_1, alpha^N)^A) and the S3 positivity condition for t_i <= 0, P(k) -> Y_+.",
        (H_depth, H_alpha, H_eta,
         _H("step_bound", sp.Le(eta * N * sp.Max(t1, alpha**N) ** A_, 1), "eta N max(t_1, alpha^N)^A <= 1"),
         _H("positivity", sp.Lt(eta * alpha ** (N - 2) * (alpha**N - t), 1), "for every t = t_i <= 0")),
        "P(k) -> Y_+ = Q diag(max(t_i, 0)) Q^T",
        (
            ("p1_step_limit", perturbed.p1_step_limit),
            ("p1_hypothesis_failures", perturbed.p1_hypothesis_failures),
            ("p1_growing_lanes", perturbed.p1_growing_lanes),
            ("k2_upper_real", flow.k2_upper_real),
            ("p1_distance_bound", perturbed.p1_distance_bound),
            ("y_plus_eigenvalues", perturbed.y_plus_eigenvalues),
            ("p1_step_limit_ball", enclosures.p1_step_limit_ball),
            ("k2_upper_real_ball", enclosures.k2_upper_real_ball),
            ("p1_distance_bound_ball", enclosures.p1_distance_bound_ball),
            ("y_plus_eigenvalues_ball", enclosures.y_plus_eigenvalues_ball),
        ),
        "docs/theory.md#p1",
        (Tightness("ratio", "k2_upper_real", 0.99, SMALL_ETA),
         Tightness("||P(K)-Y_+||/bound", "p1_distance_bound", 0.98,
                   "eta -> 0: at K (the lane bound) the lane is just below t - delta t_1")),
    ),
    Claim(
        "P2",
        "eigenvalue_recovery_of_norm_le",
        "|t_i - s_i| <= e, |max(t_i,0) - s_i| <= e, ||Y_+ - W||_2 <= 2e, ||Y_+ - W||_F <= ||E||_F.",
        (_H("noise_norm", sp.Ge(e, 0), "e = ||E||_2"),
         _H("target_psd", sp.Ge(sp.Symbol("s_n"), 0), "W positive semidefinite")),
        sp.Le(sp.Abs(t - s), e),
        (
            ("p2_bounds", perturbed.p2_bounds),
            ("y_plus_eigenvalues", perturbed.y_plus_eigenvalues),
            ("p2_bounds_ball", enclosures.p2_bounds_ball),
            ("y_plus_eigenvalues_ball", enclosures.y_plus_eigenvalues_ball),
        ),
        "docs/theory.md#p2",
        (Tightness("ratio", "p2_bounds", 0.4999,
                   "Y positive definite: Y_+ - W = E, so ||Y_+ - W||_2 = e, half the 2e bound "
                   "(2e itself is not known to be attained; at most 0.503 of it seen)",
                   component=2),),
    ),
    Claim(
        "P3",
        "hitting_time_mem_Icc_of_noise_lt_gap",
        "e < s - d: (s-d)/(s+e-d) tau_s/eta <= K_t(d) <= ceil(rho(s+e)(s-d)/(s-d-e) tau_s/eta) for every t in [s-e, s+e].",
        (H_depth, H_alpha, H_eta,
         _H("noise_norm", sp.Ge(e, 0), "e = ||E||_2"),
         _H("noise_lt_gap", sp.Lt(e, s - d), "e < s - d"),
         _H("level_above_init", sp.Lt(alpha**N, d), "alpha^N < d"),
         _H("monotone_step", sp.Le(eta * N * (s + e) ** A_, 1), "eta N (s+e)^A <= 1"),
         _H("level_in_increasing_range", sp.Le(d, (s - e) * (N - 1) / (2 * N - 1)), "lower part: K1's range")),
        sp.Le((s - d) / (s + e - d) * tau_s(alpha**N, d) / eta, K),
        (
            ("p3_hypothesis_failures", perturbed.p3_hypothesis_failures),
            ("paired_eigenvalue_consistent", perturbed.paired_eigenvalue_consistent),
            ("k1_hypotheses", flow.k1_hypotheses),
            ("p3_bounds_real", perturbed.p3_bounds_real),
            ("p3_bounds_real_ball", enclosures.p3_bounds_real_ball),
            ("monotone_step_bound", flow.monotone_step_bound),
        ),
        "docs/theory.md#p3",
        (Tightness("ratio", "p3_bounds_real", 0.99, SMALL_ETA + ", e = 0", component=1),
         Tightness("lower/K", "p3_bounds_real", 0.99, SMALL_ETA + ", e = 0", loosen=1 / 1.02,
                   component=0)),
    ),
    Claim(
        "P4",
        "interval_persists_of_noise_le_critical",
        "T0~ <= max_{i<=r} ceil(rho(t_i) H(t_i)/eta), T1~ >= ceil(tau_{s_{r+1}+e}(alpha^N, theta'')/eta) - 1; W-only bounds when H is decreasing on [s_i-e, s_i+e]; e* the largest e keeping UB0~ <= LB1~.",
        (H_depth, H_alpha, H_eta,
         _H("noise_norm", sp.Ge(e, 0), "e = ||E||_2"),
         _H("weyl_consistent", sp.Le(sp.Abs(t - s), e), "|t_i - s_i| <= e for every i (Weyl, ||E||_2 <= e)"),
         _H("eps_unit", sp.And(sp.Gt(eps, 0), sp.Lt(eps, 1)), "0 < eps < 1"),
         _H("step_bound", sp.Le(eta * N * sp.Max(t1, alpha**N) ** A_, 1), "P1 step bound"),
         _H("positivity", sp.Lt(eta * alpha ** (N - 2) * (alpha**N - t), 1), "P1 positivity: for every t = t_i <= 0"),
         _H("comparison_step", sp.Le(eta * N * (s_r1 + e) ** A_, 1), "eta N (s_{r+1}+e)^A <= 1"),
         _H("threshold_ge_init", sp.Ge(theta, alpha**N), "theta >= alpha^N"),
         _H("init_below_learned", sp.Lt(alpha**N, (1 - eps) * t_r), "alpha^N < (1-eps) t_r")),
        sp.Le(sp.Symbol("T0~"), sp.Symbol("T1~")),
        (
            ("p4_step_limit", perturbed.p4_step_limit),
            ("p4_hypothesis_failures", perturbed.p4_hypothesis_failures),
            ("p4_bounds_real", perturbed.p4_bounds_real),
            ("p4_step_limit_ball", enclosures.p4_step_limit_ball),
            ("p4_bounds_real_ball", enclosures.p4_bounds_real_ball),
            ("p4_any_hypothesis_failures", perturbed.p4_any_hypothesis_failures),
            ("p4_bounds_any_real", perturbed.p4_bounds_any_real),
            ("critical_noise", perturbed.critical_noise),
            ("weyl_extremal_eigenvalues", perturbed.weyl_extremal_eigenvalues),
        ),
        "docs/theory.md#p4",
        (Tightness("ratio", "p4_bounds_real", 0.99, SMALL_ETA, component=0),
         Tightness("(T1~+1)/(tau/eta)", "p4_bounds_real", 0.99,
                   SMALL_ETA + ", Weyl-extremal E (t_r+1 = s_r+1 + e)", invert=True,
                   loosen=1 / 1.02, component=1),
         Tightness("T0~/UB0_any", "p4_bounds_any_real", 0.99,
                   SMALL_ETA + ", Weyl-extremal E (t_i = s_i - e)", component=0),
         Tightness("e*/e_observed_hi", "critical_noise", 0.99,
                   SMALL_ETA + ", Weyl-extremal E: e* over the upper end of the observed "
                   "critical-noise bracket (width 0.1 %)", loosen=1 / 1.02)),
    ),
    Claim(
        "P5",
        "error_le_of_mem_perturbed_interval",
        "For k in [T0~, T1~], ||P(k) - W_r||_2 <= max(eps (s_1+e), theta) + 2(e + s_{r+1}).",
        (H_depth, H_alpha, H_eta,
         _H("in_interval", sp.And(sp.Le(sp.Symbol("T0~"), k), sp.Le(k, sp.Symbol("T1~"))), "T0~ <= k <= T1~")),
        sp.Le(err, sp.Max(eps * (s1 + e), theta) + 2 * (e + s_r1)),
        (
            ("p4_step_limit", perturbed.p4_step_limit),
            ("p4_hypothesis_failures", perturbed.p4_hypothesis_failures),
            ("p5_error_bound", perturbed.p5_error_bound),
            ("p4_step_limit_ball", enclosures.p4_step_limit_ball),
            ("p5_error_bound_ball", enclosures.p5_error_bound_ball),
        ),
        "docs/theory.md#p5",
        (Tightness("ratio", "p5_error_bound", 0.49,
                   "s_{r+1} = 0, E = -e on the top eigenvector, eps (s_1+e) and theta << e: the "
                   "error at T0~ is ~ e + eps t_1, half the bound (0.4993 seen; the factor 2 "
                   "of 2(e + s_{r+1}) is not known to be attained)"),),
    ),
    Claim(
        "M1",
        "heavy_ball_hitting_time_le_gd_of_monotone_step",
        "Beyond the paper: under S1's hypotheses, 0 <= beta < 1 and alpha^N < d < t, heavy ball "
        "x_{k+1} = phi_t(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0 = alpha, reaches x^N >= d no "
        "later than gradient descent: K_HB(d) <= K_GD(d).",
        S1_HYPS + (
            _H("momentum_coefficient", sp.And(sp.Ge(beta, 0), sp.Lt(beta, 1)), "0 <= beta < 1"),
            _H("level_below_target", sp.And(sp.Lt(alpha**N, d), sp.Lt(d, t)), "alpha^N < d < t"),
        ),
        "K_HB(d) <= K_GD(d), where K_HB(d) = min{k : x_k^N >= d} for heavy ball "
        "x_{k+1} = phi_t(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0 = alpha, and "
        "K_GD(d) = K_t(d) = min{k : g_k^N >= d} for g_{k+1} = phi_t(g_k), g_0 = alpha",
        (
            ("m1_level_hypotheses", momentum.m1_level_hypotheses),
            ("monotone_step_bound", flow.monotone_step_bound),
        ),
        "docs/theory.md#m1",
    ),
]

CLAIMS = MappingProxyType({c.id: c for c in _CLAIMS})

# ---------------------------------------------------------------------------
# definitions: the quantities the statements name as function symbols (rho, J_N, ...)
# and the bounds they state in words, as SymPy expressions.  tests/test_definitions.py
# evaluates each (SymPy evalf of the integrals; tau and rho through these definitions)
# against its hand-written evaluator.
# ---------------------------------------------------------------------------
u_ = sp.Symbol("u", positive=True)
c_ = sp.Symbol("c", positive=True)
lo_ = sp.Symbol("lo", positive=True)

RHO = (1 + eta * t**A_) ** (N - 1)
J_N_INTEGRAL = sp.Integral(u_ ** (2 / N - 1) / (1 - u_), (u_, 0, 1 - eps))
# H(t) = tau_t(alpha^N, (1-eps) t) is decreasing at t iff D(alpha^N/t) >= 0
H_MARGIN = A_ * sp.Integral(u_ ** (-A_) / (1 - u_), (u_, c_, 1 - eps)) - c_ ** (1 - A_) / (1 - c_)

DEFINITIONS = MappingProxyType({
    # name: (free symbols in argument order, expression); evaluator in DEFINITION_EVALUATORS
    "rho": ((t, eta), RHO),
    "J_N": ((eps,), J_N_INTEGRAL),
    "h_decreasing_margin": ((t, alpha, eps), H_MARGIN.subs(c_, alpha**N / t)),
    # K3 upper part: tau_t(alpha^N, (1-eps) t) <= this
    "k3_upper": ((t, eps, alpha), alpha ** (-(N - 2)) / ((N - 2) * t) + J(eps) / (N * t**A_)),
    # P3 upper part: K_t(d) <= ceil(this), target s + e of rho, flow time of s
    "p3_upper": ((s, e, d, alpha, eta), rho_f(s + e) * (s - d) / (s - d - e) * tau_s(alpha**N, d) / eta),
})

# W-only P4 bounds: hypotheses for every symmetric E with ||E||_2 <= e (r = 1 shown; for
# r >= 2 the H-decreasing conjunct holds for every i <= r); H decreasing on [s_i-e, s_i+e]
# means alpha^N < (1-eps)(s_i - e) and D(alpha^N/(s_i - e)) >= 0 (D decreases in c)
P4_ANY_HYPOTHESES = (
    H_depth, H_alpha, H_eta,
    _H("noise_norm", sp.Ge(e, 0), "e = ||E||_2"),
    _H("eps_unit", sp.And(sp.Gt(eps, 0), sp.Lt(eps, 1)), "0 < eps < 1"),
    _H("threshold_ge_init", sp.Ge(theta, alpha**N), "theta >= alpha^N"),
    _H("h_decreasing", sp.And(sp.Lt(alpha**N, (1 - eps) * lo_),
                              sp.Ge(H_MARGIN.subs(c_, alpha**N / lo_), 0)),
       "H decreasing on [s_i-e, s_i+e], lo = s_i - e"),
    _H("step_bound", sp.Le(eta * N * sp.Max(s1 + e, alpha**N) ** A_, 1), "eta N max(s_1+e, alpha^N)^A <= 1"),
    _H("positivity", sp.Or(sp.Gt(s - e, 0), sp.Lt(eta * alpha ** (N - 2) * (alpha**N - (s - e)), 1)),
       "S3 positivity for s = s_n when s_n - e <= 0"),
)


def claim_ids():
    """The 17 claim IDs: the 16 of THEORY.md in its order, then M1 (beyond the paper).

    >>> len(claim_ids()), claim_ids()[-2:]
    (17, ('P5', 'M1'))
    """
    return tuple(CLAIMS)


def get_claim(claim_id):
    """The :class:`Claim` with this ID; ValueError naming the ID if unknown.

    >>> get_claim('L1').name
    'interval_nonempty_of_spectral_condition'
    """
    try:
        return CLAIMS[claim_id]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown claim ID {claim_id!r}; known IDs: {', '.join(CLAIMS)}"
        ) from None
