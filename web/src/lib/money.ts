/** Money is kopecks (integers) in the API; people type and read roubles. */

const rubles = new Map<string, Intl.NumberFormat>();

function formatter(locale: string): Intl.NumberFormat {
  let format = rubles.get(locale);
  if (format === undefined) {
    format = new Intl.NumberFormat(locale === "en" ? "en-GB" : "ru-RU", {
      style: "currency",
      currency: "RUB",
      minimumFractionDigits: 0,
      maximumFractionDigits: 2,
    });
    rubles.set(locale, format);
  }
  return format;
}

/** 125050 → "1 250,5 ₽" (ru) or "RUB 1,250.5" (en). */
export function formatKopecks(kopecks: number, locale = "ru"): string {
  return formatter(locale).format(kopecks / 100);
}

/**
 * What a cashier typed, as kopecks: "1250", "1 250,50", "1250.5" and "1250 ₽" all work.
 * Returns null for anything that is not a non-negative amount with at most two decimals.
 */
export function parseRoubles(text: string): number | null {
  const cleaned = text.replace(/[\s\u00a0\u202f₽]/g, "").replace(/руб\.?$/i, "").replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
  const [whole = "0", fraction = ""] = cleaned.split(".");
  const kopecks = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  return Number.isSafeInteger(kopecks) ? kopecks : null;
}

/** Kopecks as the roubles a form field shows: 125050 → "1250.5". */
export function kopecksToRoublesInput(kopecks: number): string {
  return String(kopecks / 100);
}

export function formatNumber(value: number, locale = "ru"): string {
  return new Intl.NumberFormat(locale === "en" ? "en-GB" : "ru-RU").format(value);
}

export function formatPercent(ratio: number, locale = "ru", digits = 1): string {
  return new Intl.NumberFormat(locale === "en" ? "en-GB" : "ru-RU", {
    style: "percent",
    maximumFractionDigits: digits,
  }).format(ratio);
}
