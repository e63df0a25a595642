"""Card numbers: 16 digits with a Luhn check digit, random, shown to the member and given to
cooperatives as the ``card_number`` claim. Not a secret and not derived from anything personal.

With 10^15 numbers a collision is practically impossible at our scale; the unique constraint
turns one into a failed issue instead of two cards sharing a number.
"""

from __future__ import annotations

import secrets

PREFIX = "2"  # keeps numbers clear of payment card ranges starting 3–6


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 0:  # every second digit from the right, counting the future check digit
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return (len(number) == 16 and number.isascii() and number.isdigit()
            and luhn_check_digit(number[:-1]) == number[-1])


def new_card_number() -> str:
    body = PREFIX + "".join(secrets.choice("0123456789") for _ in range(14))
    return body + luhn_check_digit(body)
