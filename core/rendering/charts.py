"""Horizontal bar charts as plain SVG geometry: no JavaScript, no style attributes (the CSP
allows neither); colours come from classes in static/css/admin.css."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 70
ROW_HEIGHT = 34


@dataclass(frozen=True)
class Bar:
    label: str
    current: int
    previous: int
    y: int
    current_width: float
    previous_width: float

    @property
    def text_y(self) -> int:
        return self.y + 13

    @property
    def value_x(self) -> float:
        return LABEL_WIDTH + max(self.current_width, self.previous_width) + 6


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH


def bar_chart(rows: list[tuple[str, int, int]]) -> Chart:
    """(label, this week, last week) rows; bars scaled to the largest value of either week."""
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    peak = max([max(current, previous) for _, current, previous in rows] or [0]) or 1
    bars = [Bar(label=label, current=current, previous=previous, y=6 + index * ROW_HEIGHT,
                current_width=round(room * current / peak, 1), previous_width=round(room * previous / peak, 1))
            for index, (label, current, previous) in enumerate(rows)]
    return Chart(bars=bars, width=WIDTH, height=max(len(bars), 1) * ROW_HEIGHT + 6)
