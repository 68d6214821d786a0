/** Member look-ups shared by the till and the members screens. */
import { useQuery } from "@tanstack/react-query";

import { type ApiClient, type Schemas, unwrap } from "../api/client";
import { useApi } from "../auth/SessionContext";
import { lookupAttempts } from "../lib/lookup";

export type Member = Schemas["MemberView"];

export const memberKey = (memberId: string) => ["member", memberId] as const;

export function useMember(memberId: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: memberKey(memberId ?? ""),
    enabled: memberId !== null,
    queryFn: () => unwrap(api.GET("/v1/members/{member_id}", { params: { path: { member_id: memberId ?? "" } } })),
  });
}

/**
 * Every member the text identifies: an email (anything with an @), or card, phone and QR look-ups in the order
 * lookupAttempts gives; an empty list when none matches (a QR code that is not valid here is
 * an error: the cashier must ask for a fresh one).
 */
export async function findMembers(api: ApiClient, text: string): Promise<Member[]> {
  if (text.includes("@")) {
    return (await unwrap(api.GET("/v1/members", { params: { query: { email: text.trim() } } }))).members;
  }
  for (const attempt of lookupAttempts(text)) {
    if (attempt.kind === "qr") {
      return [await unwrap(api.POST("/v1/members/qr", { body: { payload: attempt.value } }))];
    }
    const query = attempt.kind === "card" ? { card: attempt.value } : { phone: attempt.value };
    const found = await unwrap(api.GET("/v1/members", { params: { query } }));
    if (found.members.length > 0) return found.members;
  }
  return [];
}
