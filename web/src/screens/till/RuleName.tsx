import { useTranslation } from "react-i18next";

/** An earning rule as the API names it ("base", "category:coffee", "tier:gold", ...), in words. */
export function RuleName({ rule }: { rule: string }) {
  const { t } = useTranslation();
  const [kind = "", name = ""] = rule.split(":", 2);
  switch (kind) {
    case "base":
      return <>{t("rules.base")}</>;
    case "category":
      return <>{t("rules.category", { name })}</>;
    case "tier":
      return <>{t("rules.tier", { name })}</>;
    case "promotion":
      return <>{t("rules.promotion", { name })}</>;
    default:
      return <>{rule}</>;
  }
}
