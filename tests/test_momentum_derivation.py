"""bounds/momentum.py: the momentum reduction derived symbolically, checked two ways
(an eigenbasis with c^2 + s^2 = 1 or Q = I, and a generic commuting triple without one), its
beta = 0 case against R1's phi, and negative controls that the checks can fail."""

import pytest
import sympy

from bounds import reduction
from bounds.momentum import (
    METHODS,
    m1_hypotheses,
    momentum_commuting_step_holds,
    momentum_matrix_step_holds,
    momentum_step,
    two_term_form_holds,
    velocity_step,
)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("N", [2, 3])
def test_matrix_step_is_the_scalar_pair_map_in_a_rotated_eigenbasis(N, method):
    assert momentum_matrix_step_holds(N, 2, method, "rotation")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("N", [2, 3, 4])
def test_matrix_step_is_the_scalar_pair_map_in_the_diagonal_basis_n3(N, method):
    assert momentum_matrix_step_holds(N, 3, method, "diagonal")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("N", [2, 3])
def test_commuting_factors_stay_equal_symmetric_and_commuting_without_an_eigenbasis(N, method):
    assert momentum_commuting_step_holds(N, 2, method)


def test_velocity_form_is_the_two_term_recursion_and_beta0_is_r1_phi_for_symbolic_N():
    assert two_term_form_holds()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("N", [2, 3, 5])
def test_beta_zero_reduces_exactly_to_the_gd_map_of_r1(N, method):
    x, xp, t, eta = sympy.symbols("x xp t eta")
    assert sympy.expand(momentum_step(x, xp, t, eta, 0, N, method) - reduction.phi(x, t, eta, N)) == 0


@pytest.mark.filterwarnings("ignore:.*could not decide:RuntimeWarning")
def test_negative_control_the_other_methods_scalar_map_is_rejected():
    def swapped(x, v, t, eta, beta, N, method):
        other = "nesterov" if method == "heavyball" else "heavyball"
        return velocity_step(x, v, t, eta, beta, N, other)

    for m in METHODS:
        assert not momentum_matrix_step_holds(2, 2, m, "rotation", scalar=swapped)


@pytest.mark.filterwarnings("ignore:.*could not decide:RuntimeWarning")
def test_negative_control_a_velocity_without_beta_is_rejected():
    def no_memory(x, v, t, eta, beta, N, method):
        return velocity_step(x, 0 * v, t, eta, beta, N, method)

    assert not momentum_matrix_step_holds(3, 3, "heavyball", "diagonal", scalar=no_memory)


def test_the_two_methods_differ_for_beta_nonzero():
    x, xp, t, eta, beta = sympy.symbols("x xp t eta beta")
    d = sympy.expand(momentum_step(x, xp, t, eta, beta, 3, "heavyball")
                     - momentum_step(x, xp, t, eta, beta, 3, "nesterov"))
    assert d != 0


def test_m1_hypotheses_need_beta_below_one_and_the_s1_step_bound():
    assert m1_hypotheses(1, "0.05", "0.2", "0.9", 3)
    assert not m1_hypotheses(1, "0.05", "0.2", 1, 3)
    assert not m1_hypotheses(1, "0.05", "0.2", "-0.1", 3)
    assert not m1_hypotheses(1, "0.05", "0.34", "0.5", 3)  # eta N t^A = 1.02 > 1
    assert not m1_hypotheses("0.0001", "0.05", "0.2", "0.5", 3)  # alpha^N > t


def test_bad_method_is_a_value_error_naming_the_methods():
    with pytest.raises(ValueError, match="heavyball, nesterov"):
        momentum_step(1, 1, 1, 1, 0, 2, "adam")
