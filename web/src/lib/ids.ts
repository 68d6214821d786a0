/**
 * Client ids for the API's idempotent creates (transaction_id, redemption_id, ...). A check keeps
 * its ids until it is done, so a retry after a lost answer or a double tap is applied once.
 */
export function clientId(prefix: string): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const random = crypto.getRandomValues(new Uint32Array(2));
  const suffix = Array.from(random, (n) => n.toString(36).padStart(7, "0")).join("");
  return `${prefix}-${day}-${suffix}`;
}
