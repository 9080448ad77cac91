"""The calendar of the simulation: months from January 2014 to the snapshot date.

Days are int64 counts since 1970-01-01 throughout the generator (cheap to draw and
compare); they become ``date32`` only when the tables are written.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

#: The simulation starts when annual reports (年度报告公示, 2014) replaced annual inspection.
SIM_START = np.datetime64("2014-01", "M")
#: The earliest window start accepted (double-random inspection began in 2015–2016).
EARLIEST_WINDOW = np.datetime64("2015-01", "M")
NEVER = np.int64(10**7)  # a day/month index far beyond any simulation


def day_of(text: str) -> int:
    """Day number of an ISO date."""
    return int(np.datetime64(text, "D").astype(np.int64))


def child_rng(seed: int, concern: str) -> np.random.Generator:
    """Independent generator per concern, stable however many concerns exist."""
    return np.random.default_rng([int(seed), zlib.crc32(concern.encode("utf-8"))])


@dataclass(frozen=True)
class Timeline:
    """Months of the simulation; the window is the last ``months`` of them."""

    end_day: int
    months: int  # window length
    month_start: np.ndarray  # first day of each simulated month
    month_last: np.ndarray  # last day (the snapshot date for a partial last month)
    cal_year: np.ndarray
    cal_month: np.ndarray  # 1..12

    @classmethod
    def build(cls, end: str, months: int) -> Timeline:
        """Build the calendar ending on ``end`` with a window of ``months`` months."""
        end_d = np.datetime64(end, "D")
        end_m = end_d.astype("datetime64[M]")
        if months < 1:
            raise ValueError("months must be at least 1")
        window_start = end_m - (months - 1)
        if window_start < EARLIEST_WINDOW:
            raise ValueError(
                f"window starts {window_start}, before {EARLIEST_WINDOW}: choose fewer months or a "
                "later end date"
            )
        ms = np.arange(SIM_START, end_m + 1, dtype="datetime64[M]")
        start = ms.astype("datetime64[D]").astype(np.int64)
        last = (ms + 1).astype("datetime64[D]").astype(np.int64) - 1
        last[-1] = min(last[-1], int(end_d.astype(np.int64)))
        years = ms.astype("datetime64[Y]").astype(np.int64) + 1970
        cal_month = ms.astype(np.int64) % 12 + 1
        return cls(int(end_d.astype(np.int64)), months, start, last, years, cal_month)

    @property
    def n(self) -> int:
        """Number of simulated months."""
        return len(self.month_start)

    @property
    def window_first(self) -> int:
        """Index of the first month of the window."""
        return self.n - self.months

    def month_of_day(self, days: np.ndarray) -> np.ndarray:
        """Month index of each day (−1 before the simulation)."""
        return np.searchsorted(self.month_start, days, side="right") - 1

    def random_day(self, rng: np.random.Generator, months: np.ndarray) -> np.ndarray:
        """A uniformly drawn day inside each given month."""
        start = self.month_start[months]
        length = self.month_last[months] - start + 1
        return start + (rng.random(len(months)) * length).astype(np.int64)

    def workday(self, days: np.ndarray, months: np.ndarray) -> np.ndarray:
        """Move weekend days to the next Monday, or the Friday before at a month's end."""
        wd = (days + 3) % 7  # 0 = Monday
        shifted = days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
        over = shifted > self.month_last[months]
        shifted[over] = days[over] - np.where(wd[over] == 5, 1, 2)
        return np.maximum(shifted, self.month_start[months])
