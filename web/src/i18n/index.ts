/** Russian by default (the people in the shop), English on request; the choice is kept per device. */
import i18next from "i18next";
import { initReactI18next } from "react-i18next";

import { en } from "./en";
import { ru } from "./ru";

export const LANGUAGES = ["ru", "en"] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = "loyalty.language";

export function savedLanguage(): Language {
  const saved = window.localStorage.getItem(STORAGE_KEY);
  return saved === "en" ? "en" : "ru";
}

export async function setupI18n(): Promise<typeof i18next> {
  const language = savedLanguage();
  await i18next.use(initReactI18next).init({
    resources: { ru: { translation: ru }, en: { translation: en } },
    lng: language,
    fallbackLng: "ru",
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });
  document.documentElement.lang = language;
  i18next.on("languageChanged", (next) => {
    document.documentElement.lang = next;
    window.localStorage.setItem(STORAGE_KEY, next);
  });
  return i18next;
}
