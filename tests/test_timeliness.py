"""The timeliness measures against a hand-counted month (tests/timeliness_support.py), on
both databases, with the time injected: bank holidays, weekends, a clock change, and a
fixed number of statements however large the record."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from bot.clock import SettableClock
from bot.database import session_scope
from bot.timeliness import periods
from bot.timeliness.measures import measure
from tests.caselife_support import counting, make_runtime
from tests.timeliness_support import AS_AT, Seeder, seed_december, utc


@pytest.fixture
def runtime(database_url, tmp_path):
    clock = SettableClock(AS_AT)
    runtime = make_runtime(database_url, clock, tmp_path)
    yield runtime
    runtime.engine.dispose()


def december(runtime):
    with Session(runtime.engine) as session:
        return measure(
            session, periods.month(2026, 12), statutory=runtime.statutory_calendar, now=runtime.clock.now()
        )


def test_discussions_within_their_urgency_and_days_from_the_referral(runtime) -> None:
    seed_december(runtime.engine)
    found = december(runtime)
    by_urgency = {u.urgency: (u.held, u.within, u.late, u.out_of_hours) for u in found.discussions}
    assert by_urgency == {"immediate": (1, 1, 0, 0), "standard": (1, 0, 1, 0), "urgent": (2, 2, 0, 1)}
    assert (found.discussions_held, found.discussions_within) == (4, 3)
    spread = found.referral_to_discussion
    assert spread.count == 4
    assert dict(spread.bands) == {"same day": 2, "1 day": 1, "2 days": 0, "3 days": 0, "4 days or more": 1}
    assert (spread.median, spread.mean) == (0.5, 1.2)


def test_icpcs_and_assessments_on_the_statutory_calendar(runtime) -> None:
    seed_december(runtime.engine)
    icpcs, assessments = december(runtime).icpcs, december(runtime).assessments
    assert (icpcs.held, icpcs.within, icpcs.late) == (2, 1, 1)
    assert (icpcs.not_required, icpcs.outstanding_past_target, icpcs.enquiries_started) == (1, 1, 3)
    assert dict(icpcs.working_days.bands) == {
        "0 to 5": 0,
        "6 to 10": 1,
        "11 to 15": 0,
        "16 to 20": 1,
        "21 to 30": 0,
        "over 30": 0,
    }
    assert (icpcs.working_days.median, icpcs.working_days.mean) == (13.0, 13.0)
    assert (assessments.completed, assessments.within, assessments.late, assessments.open_past_deadline) == (
        2,
        1,
        1,
        1,
    )


def test_attendance_updates_and_actions_by_agency(runtime) -> None:
    seed_december(runtime.engine)
    found = december(runtime)
    ppu, health, csc = found.agency("police-ppu"), found.agency("health"), found.agency("csc")
    cid, yos = found.agency("police-cid"), found.agency("yos")
    assert (csc.attended, csc.invited) == (2, 2)
    assert (ppu.attended, ppu.delegate, ppu.did_not_respond) == (0, 1, 1)
    assert (health.written_update, health.apologies) == (1, 1)
    assert (ppu.updates_on_time, ppu.updates_late, ppu.updates_missing) == (1, 0, 2)
    assert (health.updates_on_time, health.updates_late, health.updates_missing) == (0, 1, 0)
    assert csc.updates_expected == 0  # the convenor's own agency presents instead
    assert (cid.actions_due, cid.actions_done_on_time, cid.actions_done_late) == (2, 1, 1)
    assert cid.by_priority["high"]["done_on_time"] == 1
    assert (yos.actions_due, yos.actions_open_past_due, yos.actions_escalated, yos.overdue_now) == (
        2,
        2,
        1,
        2,
    )
    assert (health.actions_due, health.overdue_now) == (0, 1)
    assert health.by_priority["immediate"]["overdue_now"] == 1
    total = found.partnership()
    assert (total.actions_due, total.overdue_now, total.updates_missing, total.attended) == (4, 3, 2, 2)


def test_the_panel_reviewed_stepped_up_and_down_and_nrm(runtime) -> None:
    seed_december(runtime.engine)
    panel = december(runtime).panel
    assert (panel.items_reviewed, panel.cases_reviewed, panel.stepped_up, panel.stepped_down) == (3, 3, 1, 1)
    assert panel.nrm_referrals == 1


def test_local_days_across_the_clock_change(runtime) -> None:
    """October 2026 (British Summer Time to 25 October): 23:30 UTC on 30 September is
    00:30 on 1 October in London, and an action done at 23:30 UTC on its due day, 2 October,
    was done at 00:30 the next morning: late."""
    with session_scope(runtime.engine) as session:
        s = Seeder(session)
        s.discussion(
            urgency="urgent", referred_at=utc(2026, 9, 30, 8), held_at=utc(2026, 9, 30, 23, 30), deadline=None
        )
        s.action("csc", "normal", date(2026, 10, 2), "done", completed_at=utc(2026, 10, 2, 23, 30))
        s.action(
            "csc", "normal", date(2026, 10, 30), "done", completed_at=utc(2026, 10, 30, 23, 30)
        )  # GMT again
    with Session(runtime.engine) as session:
        october = measure(session, periods.month(2026, 10), statutory=runtime.statutory_calendar, now=AS_AT)
        september = measure(session, periods.month(2026, 9), statutory=runtime.statutory_calendar, now=AS_AT)
    assert october.discussions_held == 1 and september.discussions_held == 0
    csc = october.agency("csc")
    assert (csc.actions_done_on_time, csc.actions_done_late) == (1, 1)


def test_periods_quarters_and_the_year_to_date(runtime) -> None:
    seed_december(runtime.engine)
    today = date(2027, 1, 5)
    assert periods.parse("quarter:2026-4", today) == periods.quarter(2026, 4)
    year = periods.parse("ytd:2026", today)
    assert (year.first, year.last) == (date(2026, 4, 1), today)
    assert periods.parse("month:2027-02", today) is None  # the future
    assert periods.parse("month:2026-13", today) is None
    assert periods.parse("ytd:2025", today) is None
    with Session(runtime.engine) as session:
        quarter = measure(session, periods.quarter(2026, 4), statutory=runtime.statutory_calendar, now=AS_AT)
        ytd = measure(session, year, statutory=runtime.statutory_calendar, now=AS_AT)
    # The quarter adds November's discussion (held at 23:59 on 30 Nov) and ICPC (E5, 20 Nov).
    assert (quarter.discussions_held, quarter.icpcs.held) == (5, 3)
    # The year to date adds 1 January's discussion.
    assert (ytd.discussions_held, ytd.icpcs.held, ytd.panel.stepped_up) == (6, 3, 2)


def test_the_report_costs_a_fixed_number_of_statements(runtime) -> None:
    def statements() -> int:
        with Session(runtime.engine) as session, counting(runtime.engine) as sql:
            measure(session, periods.month(2026, 12), statutory=runtime.statutory_calendar, now=AS_AT)
        return len(sql)

    seed_december(runtime.engine)
    once = statements()
    seed_december(runtime.engine)
    seed_december(runtime.engine)
    assert statements() == once <= 11  # ten queries, and the connection's own set-up


def test_the_template_and_the_report_name_the_same_things(runtime) -> None:
    """The Word template (rebuilt by scripts/make_word_templates.py, restylable in Word) uses
    exactly the names the report gives it, so a restyled template that drops or misspells one
    is caught here rather than in the board's report."""
    from bot.minutes.documents import template_variables
    from bot.timeliness.report import TEMPLATE, VARIABLES, context

    seed_december(runtime.engine)
    found = december(runtime)
    given = context(
        found,
        agency_code=None,
        partnership="A partnership",
        marking="OFFICIAL-SENSITIVE",
        statutory=runtime.statutory_calendar,
        data_file="rows.csv",
    )
    assert template_variables(runtime.settings.templates_dir / TEMPLATE) == set(VARIABLES)
    assert set(given) | {"chart"} == set(VARIABLES)


@pytest.mark.parametrize("agency_code", [None, "police-ppu"])
def test_the_chart_shows_every_name_and_figure_unclipped(runtime, agency_code) -> None:
    """The chart's panels are placed by hand, not by matplotlib's layout (which doubled its
    time): each panel with its title, ticks, labels and agency names (of the widest letter
    here) lies whole inside the picture, apart from the others, and shows the figures."""
    import dataclasses
    import io

    from PIL import Image

    from bot.timeliness.charts import DPI, HEIGHT, WIDTH, agencies_shown, headline_chart, headline_figure

    seed_december(runtime.engine)
    found = december(runtime)
    found = dataclasses.replace(
        found,
        agencies=tuple(dataclasses.replace(a, name=f"{n} {'W' * 40}") for n, a in enumerate(found.agencies)),
        # counts as large as a big partnership's year, for the width of the axis's numbers
        discussions=tuple(
            dataclasses.replace(u, held=u.held * 99_999, within=u.within * 99_999, late=u.late * 99_999)
            for u in found.discussions
        ),
    )
    with Image.open(io.BytesIO(headline_chart(found, agency_code))) as picture:
        assert picture.size == (round(WIDTH * DPI), round(HEIGHT * DPI))

    figure = headline_figure(found, agency_code)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    whole = figure.bbox
    boxes = [panel.get_tightbbox(renderer) for panel in figure.axes]  # what each panel draws
    assert len(boxes) == 4
    for box in [*boxes, figure.texts[0].get_window_extent(renderer)]:
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1, box
    for first in range(4):
        for second in range(first + 1, 4):
            assert not boxes[first].overlaps(boxes[second]), (first, second)

    assert figure.texts[0].get_text() == "Timeliness: December 2026"
    urgency, _icpc, updates, actions = figure.axes
    shown = agencies_shown(found, agency_code)
    names = [f"{a.name[:27]}…" if len(a.name) > 28 else a.name for a in shown]
    assert len(shown) >= 2 and any("WWW" in name for name in names)
    for panel in (updates, actions):
        assert [label.get_text() for label in panel.get_yticklabels()] == names
    held = [getattr(u, part) for part in ("within", "late") for u in found.discussions]
    assert [round(bar.get_height()) for bar in urgency.patches][: len(held)] == held
    on_time = [
        100 * a.updates_on_time / (a.updates_on_time + a.updates_late + a.updates_missing or 1) for a in shown
    ]
    assert [round(bar.get_width(), 6) for bar in updates.patches][: len(shown)] == [
        round(v, 6) for v in on_time
    ]


def test_a_chart_drawn_lately_for_the_same_figures_is_reused_and_no_other(runtime, monkeypatch) -> None:
    """The same figures draw the same picture, whenever they were counted (the moment is not
    in it), so the picture is drawn once: the report's chart, then the Word report's. Any
    figure changed, or another audience, draws afresh; only the last few are kept."""
    import dataclasses
    from datetime import timedelta

    from bot.timeliness import charts

    seed_december(runtime.engine)
    found = december(runtime)
    drawn: list[str] = []
    draw = charts.headline_figure

    def counting(measures, agency_code=None):  # type: ignore[no-untyped-def]
        drawn.append(agency_code or "")
        return draw(measures, agency_code)

    monkeypatch.setattr(charts, "_drawn", type(charts._drawn)())
    monkeypatch.setattr(charts, "headline_figure", counting)
    picture = charts.headline_chart(found)
    later = dataclasses.replace(found, as_at=found.as_at + timedelta(hours=3))
    assert charts.headline_chart(later) == picture and len(drawn) == 1
    # What the key leaves out is truly not in the picture: drawn afresh, byte for byte the same.
    assert charts._png(draw(later)) == picture

    one_more = dataclasses.replace(found.agencies[0], updates_late=found.agencies[0].updates_late + 1)
    changed = dataclasses.replace(found, agencies=(one_more, *found.agencies[1:]))
    assert charts.headline_chart(changed) != picture
    assert charts.headline_chart(found, "police-ppu") != picture
    assert drawn == ["", "", "police-ppu"]

    monkeypatch.setattr(charts, "DRAWN_AT_MOST", 2)
    charts.headline_chart(found, "csc")  # kept, and the two oldest go
    assert len(charts._drawn) == 2
    charts.headline_chart(found, "police-ppu")
    charts.headline_chart(found)
    assert drawn == ["", "", "police-ppu", "csc", ""]
