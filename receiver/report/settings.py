"""The `report:` section of the configuration: the monthly on-call burden report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from receiver.config.base import SettingsModel, clock_from_yaml, known_zone
from receiver.rota.settings import WEEKDAYS
from rules.severity import SeverityName
from scheduler.burden import BusinessHours, Policy

Weekday = Literal[WEEKDAYS]  # type: ignore[valid-type]
Format = Literal["md", "html", "csv", "json"]  # the report's file formats, written once
FORMATS: tuple[Format, ...] = get_args(Format)


class BusinessHoursSettings(SettingsModel):
    """Working days and hours, on each person's own clock (pages outside are after-hours)."""

    days: list[Weekday] = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    start: time = time(9, 0)
    end: time = time(17, 0)

    clocks_as_text = field_validator("start", "end", mode="before")(clock_from_yaml)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHoursSettings:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class ReportSettings(SettingsModel):
    """Where the monthly files go, whose calendar draws the month, and the seed's numbers."""

    folder: str = "reports"
    time_zone: str = "UTC"  # the month runs from the 1st 00:00 to the next 1st 00:00 here
    formats: list[Format] = list(FORMATS)
    business_hours: BusinessHoursSettings = BusinessHoursSettings()
    interruption_window_seconds: float = Field(default=60, ge=0)
    ack_target_minutes: float = Field(default=5, gt=0)
    night_page_limit: float = Field(default=2, ge=0)
    # An alert whose classified incidents are at least this % noise is named in the report.
    noisy_alert_pct: float = Field(default=50, gt=0, le=100)

    zone_is_known = field_validator("time_zone")(known_zone)

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        # The report and each incident's resolution verdict once read MTTR targets from two
        # keys, which could disagree; a configuration still naming the old one is told where.
        if isinstance(data, dict) and "resolve_target_hours" in data:
            raise ValueError(
                "resolve_target_hours has moved to response.mttr (durations like 4h, 1w), "
                "which the report and each incident's resolution both read"
            )
        return data

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def policy(self, mttr: Mapping[SeverityName, timedelta]) -> Policy:
        """The pure report's policy for these settings, with the MTTR targets of `response:`."""
        hours = self.business_hours
        return Policy(
            ack_target=timedelta(minutes=self.ack_target_minutes),
            resolve_targets=dict(mttr.items()),  # str-keyed: a Mapping's key type is invariant
            night_page_limit=self.night_page_limit,
            noisy_alert_pct=self.noisy_alert_pct,
            interruption_window=timedelta(seconds=self.interruption_window_seconds),
            business_hours=BusinessHours(
                days=frozenset(WEEKDAYS.index(day) for day in hours.days),
                start=hours.start,
                end=hours.end,
            ),
        )
