import type { Schemas } from "../../api/client";

type Day = Schemas["DayFigures"];

/** The last ``count`` days up to today, with the days the API has no counters for as zeros. */
export function lastDays(days: Day[], count: number, today = new Date()): Day[] {
  const byDay = new Map(days.map((day) => [day.day, day]));
  return Array.from({ length: count }, (_, index) => {
    const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (count - 1 - index)));
    const key = date.toISOString().slice(0, 10);
    return byDay.get(key) ?? { day: key };
  });
}
