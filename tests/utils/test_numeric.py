"""The command line reads numbers as people write them, and refuses only what is really not a number
or outside a stated range, saying which."""

import argparse
import decimal
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from explorer.cli.parser import build_parser
from explorer.utils import numeric


def notations(x: float):
    """Ways to write x: as Python prints it, in exponent form in either case, with an explicit sign."""
    signed = repr(x) if repr(x).startswith("-") else "+" + repr(x)
    return st.sampled_from([repr(x), f"{x:e}", f"{x:.17E}", f"{x:.3g}", signed])


@given(data=st.data(), x=st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_number_in_any_notation_is_read_as_that_number(data, x):
    text = data.draw(notations(x))
    assume(math.isfinite(float(text)))  # "1.8e+308", x rounded to 3 digits, is past the largest float
    assert numeric.finite(text) == float(text)
    args = build_parser().parse_args(["path", "--checkpoint", "m", "--from", text, text, "--to", "0", "0",
                                      "--out", "p.png"])
    assert args.start == [float(text)] * 2  # "-1e-3" is a value, not an option


@given(n=st.integers(1, 10**6), exponent_form=st.booleans(), upper=st.booleans())
def test_whole_numbers_may_be_written_with_an_exponent(n, exponent_form, upper):
    text = format(decimal.Decimal(n), "E" if upper else "e") if exponent_form else str(n)  # 20 -> 2E+1
    assert numeric.int_from(1, 10**6)(text) == n


@given(x=st.one_of(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != int(v)),
                   st.sampled_from(["1.5", "2e-1", "inf", "nan", "two", "", "0x10"])))
def test_what_is_not_a_whole_number_is_refused_as_such(x):
    with pytest.raises(argparse.ArgumentTypeError, match="is not a whole number"):
        numeric.int_from(0, 10**400)(str(x))


@given(n=st.one_of(st.integers(max_value=0), st.integers(min_value=101)))
def test_whole_numbers_outside_the_range_say_the_range(n):
    for text in (str(n), format(decimal.Decimal(n), "e")):
        with pytest.raises(argparse.ArgumentTypeError, match=r"out of range \(1 to 100\)"):
            numeric.int_from(1, 100)(text)


@given(exponent=st.integers(309, 10**6))
def test_a_number_too_large_for_a_float_is_not_called_infinite(exponent):
    with pytest.raises(argparse.ArgumentTypeError, match="too large for a floating-point number") as e:
        numeric.finite(f"1e{exponent}")
    assert "finite" not in str(e.value)


@pytest.mark.parametrize("text", ["inf", "-Infinity", "nan", "NaN"])
def test_infinity_and_nan_are_refused_as_not_finite(text):
    with pytest.raises(argparse.ArgumentTypeError, match="not a finite number"):
        numeric.finite(text)
    assert not math.isfinite(float(text))
