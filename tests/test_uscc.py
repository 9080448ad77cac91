import numpy as np
import pandas as pd
import pytest

from workbench.contract import uscc

# The example code printed in GB 32100-2015 and its guides.
KNOWN_VALID = ["91350100M000100Y43"]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_validate(code):
    assert uscc.validate(code) == code
    assert uscc.check_character(code[:17]) == code[17]


def test_check_character_by_hand():
    # Σ value·weight over the first 17 characters, computed here independently.
    first17 = "91350100M000100Y4"
    values = [uscc.ALPHABET.index(c) for c in first17]
    total = sum(v * w for v, w in zip(values, uscc.WEIGHTS, strict=True))
    assert total % 31 == 28  # hence 31 - 28 = 3
    assert uscc.check_character(first17) == "3"


def test_check_value_31_maps_to_zero():
    # Find a body whose weighted sum is ≡ 0 (mod 31): its check character must be '0'.
    for serial in range(10_000):
        body = f"91410400{serial:08d}X"[:17]
        total = sum(uscc.ALPHABET.index(c) * w for c, w in zip(body, uscc.WEIGHTS, strict=True))
        if total % 31 == 0:
            assert uscc.check_character(body) == "0"
            assert uscc.is_valid(body + "0")
            return
    pytest.fail("no body with sum ≡ 0 found")


def test_normalisation_spaces_fullwidth_case():
    assert uscc.normalise("  91350100m000100y43 ") == "91350100M000100Y43"
    assert uscc.normalise("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert uscc.normalise("'91350100M000100Y43") == "91350100M000100Y43"  # Excel's text mark
    assert uscc.normalise("9135 0100\u3000M000 100Y43") == "91350100M000100Y43"
    assert uscc.validate("９１３５０１００ｍ０００１００ｙ４３") == "91350100M000100Y43"


def test_wrong_check_character_names_position_and_char():
    with pytest.raises(uscc.USCCError) as err:
        uscc.validate("91350100M000100Y44")
    assert err.value.position == 18
    assert err.value.character == "4"
    assert "18" in str(err.value) and "'3'" in str(err.value)


@pytest.mark.parametrize(
    ("code", "position", "char"),
    [
        ("91350100I000100Y43", 9, "I"),  # I is not in the alphabet
        ("O1350100M000100Y43", 1, "O"),
        ("91350100M000100Y4Z", 18, "Z"),
        ("9135010中M000100Y43", 8, "中"),
    ],
)
def test_bad_character_names_position_and_char(code, position, char):
    with pytest.raises(uscc.USCCError) as err:
        uscc.validate(code)
    assert err.value.position == position
    assert err.value.character == char
    assert f"第{position}位" in str(err.value) and char in str(err.value)


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", ""])
def test_wrong_length(code):
    with pytest.raises(uscc.USCCError, match="18"):
        uscc.validate(code)
    assert not uscc.is_valid(code)


def test_vectorised_matches_scalar():
    rng = np.random.default_rng(1)
    codes = list(
        uscc.make_codes(
            np.array(["1"] * 50), np.array(["410402"] * 50), rng.choice(10**8, 50, replace=False)
        )
    )
    broken = [c[:17] + ("0" if c[17] != "0" else "1") for c in codes[:10]]
    odd = [" " + codes[0].lower(), "ABC", "", None, "91350100I000100Y43"]
    series = pd.Series(codes + broken + odd)
    result = uscc.validate_codes(series)
    for i, raw in enumerate(series):
        raw = "" if pd.isna(raw) else raw
        assert result.check_ok[i] == uscc.is_valid(raw), raw
        assert result.normalised[i] == uscc.normalise(raw)
        if not result.well_formed[i]:
            assert result.message[i]
    assert result.check_ok[:50].all() and not result.check_ok[50:60].any()
    assert result.well_formed[50:60].all()


def test_make_codes_category_region_and_validity():
    codes = uscc.make_codes(
        np.array(["1", "2", "3"]),
        np.array(["410402", "410423", "410482"]),
        np.array([0, 99_999_999, 12_345_678]),
    )
    assert [c[:2] for c in codes] == ["91", "92", "93"]
    assert [c[2:8] for c in codes] == ["410402", "410423", "410482"]
    assert all(uscc.is_valid(c) for c in codes)
    # positions 9-17 carry a GB 11714 organisation code with its own check character
    assert all(uscc.organisation_check(c[8:16]) == c[16] for c in codes)
    with pytest.raises(ValueError):
        uscc.make_codes(np.array(["1"]), np.array(["410402"]), np.array([10**8]))


def test_organisation_check_known_example():
    # GB 11714 example D2143569: Σ = 13·3+2·7+1·9+4·10+3·5+5·8+6·4+9·2 = 199,
    # 11 - 199 % 11 = 10 → 'X'
    assert uscc.organisation_check("D2143569") == "X"
