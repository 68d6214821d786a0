/**
 * One field at the till takes whatever identifies a member: a card number typed or read by a
 * barcode scanner (a keyboard wedge types it and presses Enter), a phone number, or the signed
 * payload of the member app's QR code. This decides which API look-ups to try, in order.
 */

export type LookupAttempt =
  | { kind: "card"; value: string }
  | { kind: "phone"; value: string }
  | { kind: "qr"; value: string };

const CARD = /^\d{8,19}$/;

export function lookupAttempts(raw: string): LookupAttempt[] {
  const text = raw.trim();
  if (text === "") return [];
  // The app's QR payload is a signed token: letters, digits and dots, never only digits.
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) return [{ kind: "qr", value: text }];
  const digits = text.replace(/[\s()\-.]/g, "");
  if (digits.startsWith("+")) return [{ kind: "phone", value: digits }];
  if (!/^\d+$/.test(digits)) return [];
  const attempts: LookupAttempt[] = [];
  if (CARD.test(digits)) attempts.push({ kind: "card", value: digits });
  // A Russian number typed as 8 916 ..., 7 916 ... or 916 ...: a card first (scanners send
  // cards), then the phone.
  if (/^[78]\d{10}$/.test(digits) || /^9\d{9}$/.test(digits)) attempts.push({ kind: "phone", value: digits });
  return attempts;
}
