import {
  ActionIcon,
  Alert,
  Button,
  Group,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";

type ProgramView = Schemas["ProgramView"];
import { ApiError } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { localizeProblem } from "../../lib/validation";
import { EarnPreview } from "./EarnPreview";
import { type Form, MoneyInput, Num } from "./fields";
import {
  DEFAULT_TIERS,
  isoToLocalInput,
  localInputToIso,
  type ProgramForm,
  problemsByPath,
  toForm,
  toProgram,
} from "./programForm";

function Section({ title, children, error }: { title: string; children: ReactNode; error?: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label={title}>
      <Title order={3} size="h4" mb="sm">
        {title}
      </Title>
      {error !== undefined && error !== null && (
        <Text c="red.9" mb="sm" role="alert">
          {error}
        </Text>
      )}
      <Stack>{children}</Stack>
    </Paper>
  );
}

function RowRemove({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <ActionIcon variant="subtle" color="red" size="xl" aria-label={label} onClick={onClick} mt={28}>
      <IconTrash aria-hidden />
    </ActionIcon>
  );
}

function Earning({ form }: { form: Form }) {
  const { t } = useTranslation();
  const mode = form.values.mode ?? "points";
  return (
    <Section title={t("program.earning")}>
      <SegmentedControl
        fullWidth
        size="md"
        aria-label={t("program.mode")}
        data={[
          { value: "points", label: t("program.modes.points") },
          { value: "cashback", label: t("program.modes.cashback") },
          { value: "discount", label: t("program.modes.discount") },
        ]}
        {...form.getInputProps("mode")}
      />
      {mode === "points" && (
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Num model={form} path="earn_rate.points" label={t("program.earnPoints")} allowDecimal={false} />
          <Num model={form} path="earn_rate.per_roubles" label={t("program.earnPerRoubles")} allowDecimal={false} />
        </SimpleGrid>
      )}
      {mode === "cashback" && (
        <Num model={form} path="cashback_percent" label={t("program.cashbackPercent")} suffix=" %" decimalScale={2} />
      )}
      {mode === "discount" && (
        <Num model={form} path="discount_percent" label={t("program.discountPercent")} suffix=" %" allowDecimal={false} />
      )}
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Select
          label={t("program.rounding")}
          allowDeselect={false}
          data={(["floor", "half_up", "ceil"] as const).map((value) => ({ value, label: t(`program.roundings.${value}`) }))}
          {...form.getInputProps("rounding")}
        />
        <MoneyInput model={form} path="min_check_kopecks" label={t("program.minCheck")} />
      </SimpleGrid>
      <TextInput label={t("program.timezone")} {...form.getInputProps("timezone")} />
    </Section>
  );
}

function Redemption({ form }: { form: Form }) {
  const { t } = useTranslation();
  return (
    <Section title={t("program.redemption")}>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <MoneyInput model={form} path="point_value_kopecks" label={t("program.pointValue")} />
        <Num
          model={form}
          path="redemption_cap_percent"
          label={t("program.cap")}
          description={t("program.capHint")}
          suffix=" %"
          allowDecimal={false}
          data-testid="redemption-cap"
        />
        <Num model={form} path="min_redemption_points" label={t("program.minRedemption")} allowDecimal={false} />
        <Num model={form} path="hold_minutes" label={t("program.holdMinutes")} allowDecimal={false} />
      </SimpleGrid>
    </Section>
  );
}

function Expiry({ form }: { form: Form }) {
  const { t } = useTranslation();
  const never = form.values.expiry_months === null;
  return (
    <Section title={t("program.expiry")}>
      <Switch
        size="md"
        label={t("program.neverExpire")}
        checked={never}
        onChange={(event) => form.setFieldValue("expiry_months", event.currentTarget.checked ? null : 12)}
      />
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        {!never && <Num model={form} path="expiry_months" label={t("program.expiryMonths")} allowDecimal={false} />}
        <Select
          label={t("program.expiryWarning")}
          allowDeselect={false}
          data={[0, 3, 7, 14, 30].map((days) => ({
            value: String(days),
            label: days === 0 ? t("program.noWarning") : t("program.daysBefore", { count: days }),
          }))}
          value={String(form.values.expiry_warning_days ?? 7)}
          onChange={(value) => form.setFieldValue("expiry_warning_days", Number(value) as 0 | 3 | 7 | 14 | 30)}
          error={form.errors.expiry_warning_days}
        />
        <Num
          model={form}
          path="pending_days"
          label={t("program.pendingDays")}
          description={t("program.pendingHint")}
          allowDecimal={false}
        />
      </SimpleGrid>
    </Section>
  );
}

function Categories({ form }: { form: Form }) {
  const { t } = useTranslation();
  return (
    <Section title={t("program.categories")} error={form.errors.multipliers}>
      {form.values.multipliers.map((_, index) => (
        <Group key={index} align="flex-start" wrap="nowrap">
          <TextInput
            label={t("program.category")}
            style={{ flex: 1 }}
            {...form.getInputProps(`multipliers.${index}.category`)}
          />
          <Num
            model={form}
            path={`multipliers.${index}.multiplier`}
            label={t("program.multiplier")}
            decimalScale={3}
            style={{ flex: 1 }}
          />
          <RowRemove label={t("common.remove")} onClick={() => form.removeListItem("multipliers", index)} />
        </Group>
      ))}
      <Button
        variant="light"
        leftSection={<IconPlus aria-hidden />}
        onClick={() => form.insertListItem("multipliers", { category: "", multiplier: 2 })}
      >
        {t("program.addMultiplier")}
      </Button>
      <TagsInput
        label={t("program.excluded")}
        description={t("program.excludedHint")}
        {...form.getInputProps("excluded_categories")}
      />
    </Section>
  );
}

function TiersSection({ form }: { form: Form }) {
  const { t } = useTranslation();
  const tiers = form.values.tiers;
  const bySpend = tiers?.measure !== "points";
  return (
    <Section title={t("program.tiers")} error={form.errors.tiers ?? form.errors["tiers.levels"]}>
      <Switch
        size="md"
        label={t("program.tiersOn")}
        checked={tiers !== null}
        onChange={(event) => form.setFieldValue("tiers", event.currentTarget.checked ? DEFAULT_TIERS : null)}
      />
      {tiers !== null && (
        <>
          <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
            <Select
              label={t("program.tierMeasure")}
              allowDeselect={false}
              data={[
                { value: "spend", label: t("program.measureSpend") },
                { value: "points", label: t("program.measurePoints") },
              ]}
              {...form.getInputProps("tiers.measure")}
            />
            <Num model={form} path="tiers.window_months" label={t("program.windowMonths")} allowDecimal={false} />
            <Num model={form} path="tiers.review_months" label={t("program.reviewMonths")} allowDecimal={false} />
            <Num model={form} path="tiers.grace_days" label={t("program.graceDays")} allowDecimal={false} />
          </SimpleGrid>
          {tiers.levels.map((_, index) => (
            <Paper key={index} withBorder p="sm" aria-label={t("program.level", { n: index + 1 })}>
              <Group align="flex-start" wrap="wrap">
                <TextInput
                  label={t("program.levelName")}
                  style={{ flex: "1 1 8rem" }}
                  {...form.getInputProps(`tiers.levels.${index}.name`)}
                />
                {bySpend ? (
                  <MoneyInput
                    model={form}
                    path={`tiers.levels.${index}.threshold`}
                    label={t("program.thresholdSpend")}
                    style={{ flex: "1 1 10rem" }}
                  />
                ) : (
                  <Num
                    model={form}
                    path={`tiers.levels.${index}.threshold`}
                    label={t("program.thresholdPoints")}
                    allowDecimal={false}
                    style={{ flex: "1 1 10rem" }}
                  />
                )}
                <Num
                  model={form}
                  path={`tiers.levels.${index}.earn_multiplier`}
                  label={t("program.multiplier")}
                  decimalScale={3}
                  style={{ flex: "1 1 7rem" }}
                />
                <Num
                  model={form}
                  path={`tiers.levels.${index}.discount_percent`}
                  label={t("program.tierDiscount")}
                  suffix=" %"
                  allowDecimal={false}
                  style={{ flex: "1 1 7rem" }}
                />
                <RowRemove label={t("common.remove")} onClick={() => form.removeListItem("tiers.levels", index)} />
              </Group>
              <TagsInput
                mt="xs"
                label={t("program.perks")}
                {...form.getInputProps(`tiers.levels.${index}.perks`)}
              />
            </Paper>
          ))}
          <Button
            variant="light"
            leftSection={<IconPlus aria-hidden />}
            onClick={() =>
              form.insertListItem("tiers.levels", { name: "", threshold: 0, earn_multiplier: 1, discount_percent: 0, perks: [] })
            }
          >
            {t("program.addLevel")}
          </Button>
        </>
      )}
    </Section>
  );
}

const BONUSES = ["welcome_points", "birthday_points", "review_points", "survey_points", "referrer_points", "referred_points"] as const;

function BonusesSection({ form }: { form: Form }) {
  const { t } = useTranslation();
  return (
    <Section title={t("program.bonuses")}>
      <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }}>
        {BONUSES.map((name) => (
          <Num key={name} model={form} path={`bonuses.${name}`} label={t(`program.bonus.${name}`)} allowDecimal={false} />
        ))}
        <MoneyInput model={form} path="bonuses.referral_min_purchase_kopecks" label={t("program.bonus.referral_min")} />
      </SimpleGrid>
    </Section>
  );
}

function StampCards({ form }: { form: Form }) {
  const { t } = useTranslation();
  return (
    <Section title={t("program.stampCards")} error={form.errors.stamp_cards}>
      {form.values.stamp_cards.map((_, index) => (
        <Paper key={index} withBorder p="sm">
          <Group align="flex-start" wrap="wrap">
            <TextInput label="ID" style={{ flex: "1 1 7rem" }} {...form.getInputProps(`stamp_cards.${index}.id`)} />
            <TextInput
              label={t("program.category")}
              style={{ flex: "1 1 8rem" }}
              {...form.getInputProps(`stamp_cards.${index}.category`)}
            />
            <Num
              model={form}
              path={`stamp_cards.${index}.stamps_required`}
              label={t("program.stampsRequired")}
              allowDecimal={false}
              style={{ flex: "1 1 7rem" }}
            />
            <TextInput
              label={t("program.stampReward")}
              style={{ flex: "2 1 12rem" }}
              {...form.getInputProps(`stamp_cards.${index}.reward_name`)}
            />
            <Num
              model={form}
              path={`stamp_cards.${index}.coupon_valid_days`}
              label={t("program.couponValidDays")}
              allowDecimal={false}
              style={{ flex: "1 1 7rem" }}
            />
            <RowRemove label={t("common.remove")} onClick={() => form.removeListItem("stamp_cards", index)} />
          </Group>
        </Paper>
      ))}
      <Button
        variant="light"
        leftSection={<IconPlus aria-hidden />}
        onClick={() =>
          form.insertListItem("stamp_cards", {
            id: `stamp-${form.values.stamp_cards.length + 1}`,
            category: "",
            stamps_required: 6,
            reward_name: "",
            coupon_valid_days: 30,
          })
        }
      >
        {t("program.addStampCard")}
      </Button>
    </Section>
  );
}

function Promotions({ form }: { form: Form }) {
  const { t } = useTranslation();
  return (
    <Section title={t("program.promotions")} error={form.errors.promotions}>
      {form.values.promotions.map((promotion, index) => (
        <Paper key={index} withBorder p="sm">
          {form.errors[`promotions.${index}`] !== undefined && (
            <Text c="red.9" role="alert" mb="xs">
              {form.errors[`promotions.${index}`]}
            </Text>
          )}
          <Group align="flex-start" wrap="wrap">
            <TextInput label="ID" style={{ flex: "1 1 7rem" }} {...form.getInputProps(`promotions.${index}.id`)} />
            <TextInput
              label={t("program.promotionName")}
              style={{ flex: "2 1 12rem" }}
              {...form.getInputProps(`promotions.${index}.name`)}
            />
            <Select
              label={t("program.promotionKind")}
              allowDeselect={false}
              style={{ flex: "1 1 10rem" }}
              data={[
                { value: "multiplier", label: t("program.kindMultiplier") },
                { value: "fixed_bonus", label: t("program.kindBonus") },
              ]}
              {...form.getInputProps(`promotions.${index}.kind`)}
            />
            {promotion.kind === "multiplier" ? (
              <Num
                model={form}
                path={`promotions.${index}.multiplier`}
                label={t("program.multiplier")}
                decimalScale={3}
                style={{ flex: "1 1 7rem" }}
              />
            ) : (
              <Num
                model={form}
                path={`promotions.${index}.bonus_points`}
                label={t("program.bonusPoints")}
                allowDecimal={false}
                style={{ flex: "1 1 7rem" }}
              />
            )}
            <RowRemove label={t("common.remove")} onClick={() => form.removeListItem("promotions", index)} />
          </Group>
          <Group align="flex-start" wrap="wrap" mt="xs">
            <TextInput
              type="datetime-local"
              label={t("program.startsAt")}
              style={{ flex: "1 1 12rem" }}
              value={isoToLocalInput(promotion.starts_at)}
              onChange={(event) => form.setFieldValue(`promotions.${index}.starts_at`, localInputToIso(event.currentTarget.value))}
              error={form.errors[`promotions.${index}.starts_at`]}
            />
            <TextInput
              type="datetime-local"
              label={t("program.endsAt")}
              style={{ flex: "1 1 12rem" }}
              value={isoToLocalInput(promotion.ends_at)}
              onChange={(event) => form.setFieldValue(`promotions.${index}.ends_at`, localInputToIso(event.currentTarget.value))}
              error={form.errors[`promotions.${index}.ends_at`]}
            />
            <MoneyInput
              model={form}
              path={`promotions.${index}.min_check_kopecks`}
              label={t("program.minCheck")}
              style={{ flex: "1 1 9rem" }}
            />
          </Group>
        </Paper>
      ))}
      <Button
        variant="light"
        leftSection={<IconPlus aria-hidden />}
        onClick={() => {
          const start = new Date();
          const end = new Date(start.getTime() + 7 * 24 * 3600_000);
          form.insertListItem("promotions", {
            id: `promo-${form.values.promotions.length + 1}`,
            name: "",
            kind: "multiplier",
            multiplier: 2,
            starts_at: start.toISOString(),
            ends_at: end.toISOString(),
            min_check_kopecks: 0,
          });
        }}
      >
        {t("program.addPromotion")}
      </Button>
    </Section>
  );
}

/**
 * The program editor. The API is the judge of what is valid: its 400 answer names each field,
 * and the message appears next to that field (and whole-program rules at the top).
 */
function ProgramEditor({ loaded, onReload }: { loaded: ProgramView; onReload: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState(loaded);
  const form = useForm<ProgramForm>({ mode: "controlled", initialValues: toForm(loaded.program) });
  const [general, setGeneral] = useState<string[]>([]);

  const save = useMutation({
    mutationFn: (values: ProgramForm) =>
      unwrap(api.PUT("/v1/program", { body: { program: toProgram(values), expected_version: saved.version } })),
    onSuccess: (result) => {
      queryClient.setQueryData(["program"], result);
      setSaved(result);
      form.setValues(toForm(result.program));
      form.resetDirty(toForm(result.program));
      form.clearErrors();
      setGeneral([]);
      notifications.show({ color: "green", message: t("program.saved", { version: result.version }) });
    },
    onError: (error) => {
      if (!(error instanceof ApiError) || error.problems.length === 0) return;
      const byPath = problemsByPath(error.problems, form.getValues());
      const errors: Record<string, string> = {};
      for (const [path, messages] of Object.entries(byPath)) {
        errors[path] = messages.map((message) => localizeProblem(message, t)).join("; ");
      }
      const { "": whole, ...fields } = errors;
      form.setErrors(fields);
      setGeneral(whole === undefined ? [] : [whole]);
    },
  });

  const conflict = save.error instanceof ApiError && save.error.status === 409;
  const invalid = save.error instanceof ApiError && save.error.problems.length > 0;

  return (
    <form
      onSubmit={form.onSubmit((values) => {
        form.clearErrors();
        save.mutate(values);
      })}
      noValidate
    >
      <Stack maw={1100}>
        <Group justify="space-between">
          <Title order={2}>{t("screens.program")}</Title>
          <Text>{t("program.version", { version: saved.version })}</Text>
        </Group>
        {invalid && (
          <Alert color="red" title={t("program.notSaved")} role="alert" data-testid="program-invalid">
            {t("program.fixFields", { count: Object.keys(form.errors).length + general.length })}
            {general.map((message) => (
              <Text key={message}>{message}</Text>
            ))}
          </Alert>
        )}
        {conflict && (
          <Alert color="orange" title={t("program.conflictTitle")} role="alert">
            <Stack>
              <Text>{t("program.conflict")}</Text>
              <Button variant="default" onClick={onReload}>
                {t("program.reload")}
              </Button>
            </Stack>
          </Alert>
        )}
        {!invalid && !conflict && <ErrorNote error={save.error} />}
        <Earning form={form} />
        <EarnPreview form={form} />
        <Redemption form={form} />
        <Expiry form={form} />
        <Categories form={form} />
        <TiersSection form={form} />
        <BonusesSection form={form} />
        <StampCards form={form} />
        <Promotions form={form} />
        <Group justify="flex-end" pos="sticky" bottom={0} py="sm" bg="var(--mantine-color-body)">
          <Button
            variant="default"
            size="lg"
            disabled={!form.isDirty() || save.isPending}
            onClick={() => {
              form.setValues(toForm(saved.program));
              form.clearErrors();
              setGeneral([]);
              save.reset();
            }}
          >
            {t("program.discard")}
          </Button>
          <Button type="submit" size="lg" loading={save.isPending} data-testid="program-save">
            {t("program.save")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export default function ProgramScreen() {
  const api = useApi();
  const program = useQuery({ queryKey: ["program"], queryFn: () => unwrap(api.GET("/v1/program")) });
  if (program.data === undefined) return program.error ? <ErrorNote error={program.error} /> : <Loading />;
  // A new version from elsewhere (after a conflict) starts a fresh editor.
  return (
    <ProgramEditor
      key={program.data.version}
      loaded={program.data}
      onReload={() => void program.refetch()}
    />
  );
}
