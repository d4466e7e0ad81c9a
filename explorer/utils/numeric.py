"""The command line's argument types: numbers in any notation, checked against stated ranges, and
refusals in one line (exit status 2), not argparse's usage block."""

from __future__ import annotations

import argparse
import decimal
import math
import re

EXIT_ERROR = 2


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # argparse takes "-1e-3" for an option (its test knows only "-1" and "-1.5"): a value that reads
        # as a number, in any notation, is a value
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message):  # one line, not argparse's usage block
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see --help)\n")


_NEGATIVE_NUMBER = re.compile(r"^-(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


def int_from(low: int, high: int):
    def parse(text: str) -> int:
        try:  # Decimal reads 20, 2e1 and 2E+1 alike, exactly; int() would refuse the last two
            value = decimal.Decimal(text.strip())
        except decimal.InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value != value.to_integral_value():
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range ({low} to {high})")
        return int(value)
    return parse


def finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if math.isinf(value) and "inf" not in text.lower():
        raise argparse.ArgumentTypeError(f"{text} is too large for a floating-point number (the largest is 1.797e308)")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive(text: str) -> float:
    value = finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def non_negative(text: str) -> float:
    value = finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value
