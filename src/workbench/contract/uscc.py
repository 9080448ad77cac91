"""统一社会信用代码 (GB 32100-2015): normalise, validate, compute check characters, generate.

Scalar functions serve people and tests; the vectorised ones (``validate_codes``,
``make_codes``) serve the loaders and the synthetic city, which handle millions of codes.
A code is never "repaired" by guessing: validation only reports, naming the position
(1-based) and the character at fault.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import WorkbenchError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

#: GB 11714 organisation-code weights and alphabet (positions 9–17 of a USCC).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_LOOKUP = np.full(256, -1, dtype=np.int16)
for _ch, _v in _VALUE.items():
    _LOOKUP[ord(_ch)] = _v
_WEIGHTS_ARR = np.array(WEIGHTS, dtype=np.int64)
#: Whitespace removed from codes, spelled out rather than ``\s`` so that pandas can run the
#: replacement in Arrow (RE2) instead of falling back to Python's ``re``, 10× slower.
WHITESPACE = "[ \t\r\n\f\v\u00a0\u3000]+"
_ALPHABET_ARR = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)


class USCCError(WorkbenchError, ValueError):
    """A code that is not a well-formed GB 32100-2015 code.

    Attributes:
        position: 1-based position of the offending character (0 for a length error).
        character: the offending character ('' for a length error).
    """

    def __init__(self, message: str, position: int = 0, character: str = ""):
        super().__init__(message)
        self.position = position
        self.character = character


def normalise(code: str) -> str:
    """Remove all whitespace, make full-width characters half-width and upper-case.

    A leading ``'`` goes too: it is Excel's mark for "keep as text", typed so that the
    digits survive, and no part of the code.
    """
    text = unicodedata.normalize("NFKC", str(code))
    return "".join(text.split()).upper().removeprefix("'")


def check_character(first17: str) -> str:
    """Return the 18th (check) character for the first 17 characters of a code.

    Raises:
        USCCError: when ``first17`` is not 17 characters of the alphabet.
    """
    first17 = normalise(first17)
    _check_form(first17, 17)
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    value = 31 - total % 31
    return ALPHABET[0 if value == 31 else value]


def _check_form(code: str, length: int) -> None:
    for pos, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            raise USCCError(
                f"第{pos}位字符 {ch!r} 不在代码字符集中 (position {pos}: character {ch!r} is not "
                f"allowed; GB 32100-2015 uses {ALPHABET})",
                pos,
                ch,
            )
    if len(code) != length:
        raise USCCError(
            f"长度应为{length}位，实为{len(code)}位 (expected {length} characters, got {len(code)})"
        )


def validate(code: str) -> str:
    """Return the normalised code if it is well formed and its check character is right.

    Raises:
        USCCError: naming the position and character of the first fault.
    """
    norm = normalise(code)
    _check_form(norm, LENGTH)
    expected = check_character(norm[:17])
    if norm[17] != expected:
        raise USCCError(
            f"第18位校验码应为 {expected!r}，实为 {norm[17]!r} (position 18: check character "
            f"{norm[17]!r}, expected {expected!r})",
            18,
            norm[17],
        )
    return norm


def is_valid(code: str) -> bool:
    """True when ``code`` normalises to a well-formed code with the right check character."""
    try:
        validate(code)
    except USCCError:
        return False
    return True


@dataclass(frozen=True)
class CodeCheck:
    """Vectorised validation result, aligned with the input series."""

    normalised: pd.Series  # normalised text
    well_formed: np.ndarray  # length 18 and every character in the alphabet
    check_ok: np.ndarray  # well formed and the check character matches
    message: pd.Series  # '' when well formed, else the error naming position and character


def normalise_series(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise` (NA becomes ''); returns a pandas ``str`` column.

    Also used for other code columns (行政区划代码) so that full-width digits and Excel's
    text mark are read alike everywhere.
    """
    text = codes.astype("str").fillna("")
    # NFKC only where needed: it is the slow part and almost every code is ASCII already.
    non_ascii = ~text.str.isascii().to_numpy(dtype=bool, na_value=True)
    if non_ascii.any():
        text = text.copy()
        text[non_ascii] = text[non_ascii].map(lambda v: unicodedata.normalize("NFKC", v))
    # one pass: whitespace anywhere, and Excel's ' at the start (after any whitespace)
    return text.str.replace(f"^(?:{WHITESPACE})?'|{WHITESPACE}", "", regex=True).str.upper()


def validate_codes(codes: pd.Series) -> CodeCheck:
    """Validate many codes at once (1,000,000 in about 0.7 s here; Arrow buffers, no loop).

    Only the rows that fail are revisited one by one, to word their messages.
    """
    norm = normalise_series(codes)
    arrow = pa.array(norm, type=pa.large_string())
    n = len(arrow)
    lengths = pc.utf8_length(arrow).to_numpy(zero_copy_only=False)
    shape_ok = (lengths == LENGTH) & pc.string_is_ascii(arrow).to_numpy(zero_copy_only=False)
    well_formed = np.zeros(n, dtype=bool)
    check_ok = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(shape_ok)
    if len(idx):
        subset = pc.take(arrow, pa.array(idx))
        if isinstance(subset, pa.ChunkedArray):
            subset = subset.combine_chunks()
        offsets = np.frombuffer(subset.buffers()[1], dtype=np.int64)[subset.offset :]
        raw = np.frombuffer(subset.buffers()[2], dtype=np.uint8)
        raw = raw[offsets[0] : offsets[0] + LENGTH * len(idx)]
        mat = _LOOKUP[raw].reshape(-1, LENGTH)
        formed = (mat >= 0).all(axis=1)
        well_formed[idx] = formed
        good = mat[formed]
        total = (good[:, :17].astype(np.int64) * _WEIGHTS_ARR).sum(axis=1)
        expected = 31 - total % 31
        expected[expected == 31] = 0
        check_ok[idx[formed]] = good[:, 17] == expected
    messages = np.full(n, "", dtype=object)
    failing = np.flatnonzero(~check_ok)
    for i, value in zip(failing, norm.iloc[failing], strict=True):
        messages[i] = _check_message(value)
    return CodeCheck(
        normalised=norm,
        well_formed=well_formed,
        check_ok=check_ok,
        message=pd.Series(messages, index=codes.index, dtype=object),
    )


def _check_message(code: str) -> str:
    try:
        validate(code)
    except USCCError as err:
        return str(err)
    return ""  # pragma: no cover - only called for codes that fail


def organisation_check(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation-code body."""
    total = 0
    for ch, w in zip(body8, ORG_WEIGHTS, strict=True):
        total += (int(ch) if ch.isdigit() else ord(ch) - 55) * w
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_codes(category: np.ndarray, region: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Build valid codes: department 9, ``category`` (1/2/3), ``region`` (6 digits), serial.

    ``serial`` holds distinct integers below 10**8; each becomes an 8-digit organisation
    code body with its GB 11714 check character, so distinct serials give distinct codes.
    Returns an array of 18-character strings. Vectorised for the synthetic city.
    """
    n = len(serial)
    serial = np.asarray(serial, dtype=np.int64)
    if n and (serial.min() < 0 or serial.max() >= 10**8):
        raise ValueError("serial numbers must lie in [0, 10**8)")
    digits = np.empty((n, 8), dtype=np.int64)
    rest = serial.copy()
    for pos in range(7, -1, -1):
        digits[:, pos] = rest % 10
        rest //= 10
    org = 11 - (digits * np.array(ORG_WEIGHTS)).sum(axis=1) % 11
    org_char = np.where(org == 10, ord("X"), np.where(org == 11, ord("0"), ord("0") + org))
    mat = np.empty((n, LENGTH), dtype=np.uint8)
    mat[:, 0] = ord("9")
    mat[:, 1] = np.frombuffer("".join(np.asarray(category, dtype=str)).encode(), dtype=np.uint8)
    region_bytes = np.frombuffer("".join(np.asarray(region, dtype=str)).encode(), dtype=np.uint8)
    mat[:, 2:8] = region_bytes.reshape(n, 6)
    mat[:, 8:16] = ord("0") + digits
    mat[:, 16] = org_char
    total = (_LOOKUP[mat[:, :17]].astype(np.int64) * _WEIGHTS_ARR).sum(axis=1)
    check = 31 - total % 31
    check[check == 31] = 0
    mat[:, 17] = _ALPHABET_ARR[check]
    return np.array([row.tobytes().decode("ascii") for row in mat], dtype=object)
