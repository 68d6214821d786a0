import { describe, expect, it } from "vitest";

import { apiErrorFrom, formErrors } from "../api/errors";
import { formPath, toForm, toProgram } from "../screens/program/programForm";
import { lookupAttempts } from "./lookup";
import { formatKopecks, parseRoubles } from "./money";

describe("parseRoubles", () => {
  it("reads what cashiers type", () => {
    expect(parseRoubles("1250")).toBe(125_000);
    expect(parseRoubles("1 250,50")).toBe(125_050);
    expect(parseRoubles("1250.5")).toBe(125_050);
    expect(parseRoubles("99 ₽")).toBe(9_900);
    expect(parseRoubles("0,07")).toBe(7);
  });

  it("refuses what is not an amount", () => {
    for (const text of ["", "abc", "-5", "1,234", "1.2.3", "12,345"]) expect(parseRoubles(text)).toBeNull();
  });
});

describe("formatKopecks", () => {
  it("writes roubles the Russian way", () => {
    expect(formatKopecks(125_050).replace(/\s/g, " ")).toBe("1 250,5 ₽");
    expect(formatKopecks(100).replace(/\s/g, " ")).toBe("1 ₽");
  });
});

describe("lookupAttempts", () => {
  it("tries a card, then a phone, for digits that could be either", () => {
    expect(lookupAttempts("89161234567")).toEqual([
      { kind: "card", value: "89161234567" },
      { kind: "phone", value: "89161234567" },
    ]);
  });

  it("takes a scanned card, a typed phone and an app QR payload", () => {
    expect(lookupAttempts(" 7788123456789012 ")).toEqual([{ kind: "card", value: "7788123456789012" }]);
    expect(lookupAttempts("+7 (916) 123-45-67")).toEqual([{ kind: "phone", value: "+79161234567" }]);
    expect(lookupAttempts("eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl")).toEqual([
      { kind: "qr", value: "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl" },
    ]);
    expect(lookupAttempts("Анна")).toEqual([]);
    expect(lookupAttempts("")).toEqual([]);
  });
});

describe("apiErrorFrom", () => {
  it("puts a rule's one named field next to the field, with the API's message", () => {
    const error = apiErrorFrom(400, { error: { code: "invalid_request", message: "email is not an email address", details: { field: "email" } } });
    expect(formErrors(error.problems)).toEqual({ email: "email is not an email address" });
  });

  it("keeps a 404's field out of the form", () => {
    expect(apiErrorFrom(404, { error: { code: "not_found", message: "no such member", details: { field: "member_id" } } }).problems).toEqual([]);
  });
});

describe("formErrors", () => {
  it("keys the API's problems by form path, joining several on one field", () => {
    expect(
      formErrors([
        { field: "delivery.address.postal_code", message: "bad" },
        { field: "quantity", message: "too low" },
        { field: "quantity", message: "not a number" },
        { field: "body", message: "whole" },
      ]),
    ).toEqual({ "delivery.address.postal_code": "bad", quantity: "too low; not a number", "": "whole" });
  });
});

describe("the program editor's paths", () => {
  const form = toForm({
    mode: "points",
    earn_rate: { points: 1, per_roubles: 100 },
    category_multipliers: { coffee: 2, tea: 1.5 },
  } as never);

  it("maps category multipliers from a map to rows and back", () => {
    expect(form.multipliers).toEqual([
      { category: "coffee", multiplier: 2 },
      { category: "tea", multiplier: 1.5 },
    ]);
    expect(toProgram(form).category_multipliers).toEqual({ coffee: 2, tea: 1.5 });
  });

  it("puts the API's errors on the editor's fields", () => {
    expect(formPath("program.redemption_cap_percent", form)).toBe("redemption_cap_percent");
    expect(formPath("program.tiers.levels.0.threshold", form)).toBe("tiers.levels.0.threshold");
    expect(formPath("program.category_multipliers.tea", form)).toBe("multipliers.1.multiplier");
    expect(formPath("program", form)).toBe("");
  });
});
