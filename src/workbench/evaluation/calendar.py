"""The Chinese working-day calendar (工作日历): which days count towards a deadline.

Results must be published within a number of working days (工作日) of the inspection.
On the Chinese calendar that is not "weekdays": statutory holidays (法定节假日) are not
working days and adjusted weekend workdays (调休上班) are. The calendar comes from the
``chinese-calendar`` package, which knows each year only once the State Council has
published its holiday schedule (节假日安排); a day beyond its data is a
:class:`CalendarError`, never a silent guess.
"""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd

from workbench.errors import WorkbenchError


class CalendarError(WorkbenchError, ValueError):
    """A day the Chinese working-day calendar has no data for (a year not yet published).

    The user fixes it by upgrading ``chinese-calendar`` once the State Council has
    published that year's holiday schedule; the message names the day and the years known.
    """


def _calendar_year_range() -> tuple[int, int]:
    import chinese_calendar

    years = [d.year for d in chinese_calendar.holidays] + [
        d.year for d in chinese_calendar.workdays
    ]
    return min(years), max(years)


def is_working_day(day: dt.date | pd.Timestamp | str) -> bool:
    """True on a Chinese working day: weekdays except holidays, plus adjusted workdays.

    Raises:
        CalendarError: for a year ``chinese_calendar`` has no data for, naming the day,
            the years it covers and what to do.
    """
    return _is_working_day(pd.Timestamp(day).date())


@functools.lru_cache(maxsize=8192)
def _is_working_day(day: dt.date) -> bool:
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as err:
        first, last = _calendar_year_range()
        version = getattr(chinese_calendar, "__version__", "?")
        raise CalendarError(
            f"working days of {day.isoformat()} are unknown: chinese-calendar {version} has "
            f"the holiday schedule (节假日安排) of {first}–{last} only; upgrade it "
            f"(pip install -U chinese-calendar) once the State Council has published "
            f"{day.year}'s schedule"
        ) from err


def add_working_days(start: dt.date | pd.Timestamp | str, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted).

    E.g. 20 working days after an inspection on Monday 2026-09-28: the National Day
    holiday (10-01…10-07) does not count, the adjusted workday Saturday 10-10 does, and
    the deadline is Friday 2026-10-30.
    """
    if days < 0:
        raise ValueError(f"days must be non-negative, not {days}")
    day = pd.Timestamp(start).date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        counted += _is_working_day(day)
    return day


def working_days_between(
    start: dt.date | pd.Timestamp | str, end: dt.date | pd.Timestamp | str
) -> int:
    """Working days in ``(start, end]`` (0 when ``end`` is not after ``start``)."""
    first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    count, day = 0, first
    while day < last:
        day += dt.timedelta(days=1)
        count += _is_working_day(day)
    return count
