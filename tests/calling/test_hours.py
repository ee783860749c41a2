"""Business hours in the agent's IANA time zone: window edges, several windows a day, days
without hours, 24:00 ends, time zones far from UTC and the DST changes of 2026."""

import datetime as dt

import pytest

from calling import services
from calling.models import Agent
from crm.errors import ServiceError

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def agent(tz="UTC", hours=None) -> Agent:
    return Agent(name="A", time_zone=tz, business_hours=hours if hours is not None else
                 {"mon": [["09:00", "12:00"], ["13:00", "17:30"]], "tue": [["09:00", "17:00"]]})


def test_window_start_is_inclusive_and_end_exclusive():
    a = agent()
    # 2026-11-23 is a Monday.
    assert not a.is_open(at(2026, 11, 23, 8, 59, 59))
    assert a.is_open(at(2026, 11, 23, 9, 0))
    assert a.is_open(at(2026, 11, 23, 11, 59, 59))
    assert not a.is_open(at(2026, 11, 23, 12, 0))  # lunch break between two windows
    assert a.is_open(at(2026, 11, 23, 13, 0))
    assert a.is_open(at(2026, 11, 23, 17, 29))
    assert not a.is_open(at(2026, 11, 23, 17, 30))
    assert not a.is_open(at(2026, 11, 25, 10, 0))  # Wednesday has no hours


def test_hours_are_local_to_the_agents_zone():
    tokyo = agent("Asia/Tokyo")  # UTC+9, no DST
    # Monday 09:00 in Tokyo is Sunday 00:00 UTC.
    assert tokyo.is_open(at(2026, 11, 23, 0, 0))
    assert not tokyo.is_open(at(2026, 11, 23, 9, 0))  # 18:00 Tokyo
    la = agent("America/Los_Angeles")  # UTC-8 in November
    # Monday 17:00 in LA is Tuesday 01:00 UTC: still Monday's second window.
    assert la.is_open(at(2026, 11, 24, 1, 0))
    assert not la.is_open(at(2026, 11, 24, 1, 30))


def test_next_open_moves_to_the_next_window_and_over_closed_days():
    a = agent()
    assert a.next_open(at(2026, 11, 23, 10, 0)) == at(2026, 11, 23, 10, 0)  # open: now
    assert a.next_open(at(2026, 11, 23, 12, 15)) == at(2026, 11, 23, 13, 0)  # after lunch
    assert a.next_open(at(2026, 11, 23, 18, 0)) == at(2026, 11, 24, 9, 0)  # Tuesday morning
    # Tuesday evening -> the next Monday (Wednesday to Sunday closed).
    assert a.next_open(at(2026, 11, 24, 17, 0)) == at(2026, 11, 30, 9, 0)
    assert Agent(name="closed", business_hours={}).next_open(at(2026, 11, 23)) is None


def test_24_hour_windows_are_always_open():
    always = agent("Pacific/Kiritimati", {d: [["00:00", "24:00"]] for d in
                                          ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    for hour in range(0, 24 * 7, 5):
        assert always.is_open(at(2026, 11, 23) + dt.timedelta(hours=hour))


def test_spring_forward_keeps_local_hours():
    # New York moves from EST (UTC-5) to EDT (UTC-4) on Sunday 2026-03-08 at 02:00.
    ny = agent("America/New_York", {"fri": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]],
                                    "sun": [["01:00", "04:00"]]})
    assert ny.is_open(at(2026, 3, 6, 14, 0)) and not ny.is_open(at(2026, 3, 6, 13, 59))  # Fri: 09:00 EST
    assert ny.is_open(at(2026, 3, 9, 13, 0)) and not ny.is_open(at(2026, 3, 9, 12, 59))  # Mon: 09:00 EDT
    assert ny.next_open(at(2026, 3, 6, 23, 0)) == at(2026, 3, 8, 6, 0)  # Sun 01:00 EST
    # The Sunday window 01:00-04:00 local is only two hours long that night.
    sunday = ny.windows_on(dt.date(2026, 3, 8))
    assert sunday == [(at(2026, 3, 8, 6, 0), at(2026, 3, 8, 8, 0))]


def test_fall_back_keeps_local_hours():
    # Berlin moves from CEST (UTC+2) to CET (UTC+1) on Sunday 2026-10-25.
    berlin = agent("Europe/Berlin", {"fri": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]})
    assert berlin.is_open(at(2026, 10, 23, 7, 0)) and not berlin.is_open(at(2026, 10, 23, 6, 59))
    assert berlin.is_open(at(2026, 10, 26, 8, 0)) and not berlin.is_open(at(2026, 10, 26, 7, 59))
    # Friday 18:00 CEST -> Monday 09:00 CET.
    assert berlin.next_open(at(2026, 10, 23, 16, 0)) == at(2026, 10, 26, 8, 0)


@pytest.mark.parametrize("hours, message", [
    ({"mon": [["09:00", "09:00"]]}, "must start before it ends"),
    ({"mon": [["17:00", "09:00"]]}, "must start before it ends"),
    ({"mon": [["9:00", "17:00"]]}, "HH:MM"),
    ({"mon": [["09:00", "24:30"]]}, "HH:MM"),
    ({"mon": [["24:00", "24:00"]]}, "cannot start at 24:00"),
    ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
    ({"funday": [["09:00", "12:00"]]}, "not a weekday"),
    ({"mon": ["09:00-12:00"]}, "each window"),
    (["09:00", "17:00"], "must be an object"),
])
def test_bad_business_hours_are_refused(hours, message):
    with pytest.raises(ServiceError) as exc:
        services.clean_business_hours(hours)
    assert message in exc.value.detail and exc.value.field == "business_hours"


def test_business_hours_are_normalised():
    cleaned = services.clean_business_hours({"Monday": [["13:00", "17:30"], ["09:00", "12:00"]], "sat": []})
    assert cleaned["mon"] == [["09:00", "12:00"], ["13:00", "17:30"]]
    assert set(cleaned) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
