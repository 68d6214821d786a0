import {
  Badge,
  Button,
  Card,
  Group,
  Image,
  Modal,
  NumberInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
  Timeline,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError, formErrors } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { clientId } from "../../lib/ids";
import { formatKopecks } from "../../lib/money";
import { localizeProblem } from "../../lib/validation";

type Design = Schemas["DesignView"];
type Order = Schemas["GiftCardOrderView"];

const PLACEHOLDER =
  "data:image/svg+xml;utf8," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 200"><rect width="320" height="200" rx="16" fill="#e7f5ff"/><path d="M160 60l14 30 33 4-24 22 6 32-29-16-29 16 6-32-24-22 33-4z" fill="#74c0fc"/></svg>',
  );

/** Orders placed from this device (the API lists none yet: see the report's API changes). */
const RECENT_KEY = "loyalty.recentGiftCardOrders";
function recentOrders(): string[] {
  try {
    const saved: unknown = JSON.parse(window.localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(saved) ? saved.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}
function rememberOrder(orderId: string): void {
  window.localStorage.setItem(RECENT_KEY, JSON.stringify([orderId, ...recentOrders().filter((x) => x !== orderId)].slice(0, 20)));
}

interface OrderForm {
  kind: "gift_card" | "loyalty_card";
  design_id: string;
  nominal_roubles: number | "";
  quantity: number;
  greeting: string;
  recipient: { name: string; phone: string; email: string };
  delivery: {
    method: "email" | "courier" | "post";
    address: { postal_code: string; region: string; city: string; street: string; house: string; apartment: string };
  };
  payment: { method: "money" | "points"; reference: string; member_id: string };
}

function blankToNull(value: string): string | null {
  return value.trim() === "" ? null : value.trim();
}

function NewOrder({ designs, onPlaced, onClose }: { designs: Design[]; onPlaced: (o: Order) => void; onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const [orderId] = useState(() => clientId("order"));
  const form = useForm<OrderForm>({
    initialValues: {
      kind: "gift_card",
      design_id: designs.find((d) => d.kind === "gift_card")?.id ?? "",
      nominal_roubles: 3000,
      quantity: 1,
      greeting: "",
      recipient: { name: "", phone: "", email: "" },
      delivery: { method: "email", address: { postal_code: "", region: "", city: "", street: "", house: "", apartment: "" } },
      payment: { method: "money", reference: "", member_id: "" },
    },
  });
  const values = form.values;
  const place = useMutation({
    mutationFn: (v: OrderForm) => {
      const physical = v.delivery.method !== "email";
      const body: Schemas["GiftCardOrderRequest"] = {
        order_id: orderId,
        kind: v.kind,
        design_id: v.design_id, // the order names its design (the contract: a design or an artwork URL)
        quantity: v.quantity,
        nominal_kopecks: v.kind === "gift_card" && v.nominal_roubles !== "" ? Math.round(v.nominal_roubles * 100) : null,
        greeting: blankToNull(v.greeting),
        recipient: {
          name: blankToNull(v.recipient.name),
          phone: blankToNull(v.recipient.phone),
          email: blankToNull(v.recipient.email),
        },
        delivery: {
          method: v.delivery.method,
          address: physical ? { ...v.delivery.address, apartment: blankToNull(v.delivery.address.apartment) } : null,
        },
        // The contract says which field each method needs (an empty one is the API's 400 to show).
        payment:
          v.payment.method === "money"
            ? { method: "money", reference: v.payment.reference.trim() }
            : { method: "points", member_id: v.payment.member_id.trim() },
      };
      return unwrap(api.POST("/v1/gift-cards/orders", { body }));
    },
    onSuccess: (order) => {
      rememberOrder(order.order_id);
      onPlaced(order);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      const errors = formErrors(error.problems);
      if (errors.nominal_kopecks !== undefined) errors.nominal_roubles = errors.nominal_kopecks;
      form.setErrors(Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, localizeProblem(v, t)])));
    },
  });
  const choices = designs.filter((design) => design.kind === values.kind);
  return (
    <Modal opened onClose={onClose} title={t("giftCards.newOrder")} size="xl">
      <form onSubmit={form.onSubmit((v) => place.mutate(v))} noValidate>
        <Stack>
          <SegmentedControl
            aria-label={t("giftCards.kind")}
            data={[
              { value: "gift_card", label: t("giftCards.kinds.gift_card") },
              { value: "loyalty_card", label: t("giftCards.kinds.loyalty_card") },
            ]}
            value={values.kind}
            onChange={(kind) => {
              form.setFieldValue("kind", kind);
              form.setFieldValue("design_id", designs.find((d) => d.kind === kind)?.id ?? "");
            }}
          />
          <Select
            label={t("giftCards.design")}
            allowDeselect={false}
            data={choices.map((design) => ({ value: design.id, label: design.name }))}
            {...form.getInputProps("design_id")}
          />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {values.kind === "gift_card" && (
              <NumberInput
                label={t("giftCards.nominal")}
                suffix=" ₽"
                thousandSeparator=" "
                min={0}
                {...form.getInputProps("nominal_roubles")}
              />
            )}
            <NumberInput label={t("giftCards.quantity")} allowDecimal={false} min={1} {...form.getInputProps("quantity")} />
          </SimpleGrid>
          {values.kind === "gift_card" && (
            <Textarea label={t("giftCards.greeting")} autosize minRows={2} {...form.getInputProps("greeting")} />
          )}
          <Title order={3} size="h5">
            {t("giftCards.recipient")}
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput label={t("members.name")} {...form.getInputProps("recipient.name")} />
            <TextInput label={t("members.phone")} type="tel" {...form.getInputProps("recipient.phone")} />
            <TextInput label={t("members.email")} type="email" {...form.getInputProps("recipient.email")} />
          </SimpleGrid>
          <Select
            label={t("giftCards.delivery")}
            allowDeselect={false}
            data={(["email", "courier", "post"] as const).map((value) => ({ value, label: t(`giftCards.methods.${value}`) }))}
            {...form.getInputProps("delivery.method")}
          />
          {values.delivery.method !== "email" && (
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <TextInput label={t("giftCards.postalCode")} inputMode="numeric" {...form.getInputProps("delivery.address.postal_code")} />
              <TextInput label={t("giftCards.region")} {...form.getInputProps("delivery.address.region")} />
              <TextInput label={t("giftCards.city")} {...form.getInputProps("delivery.address.city")} />
              <TextInput label={t("giftCards.street")} {...form.getInputProps("delivery.address.street")} />
              <TextInput label={t("giftCards.house")} {...form.getInputProps("delivery.address.house")} />
              <TextInput label={t("giftCards.apartment")} {...form.getInputProps("delivery.address.apartment")} />
            </SimpleGrid>
          )}
          <SegmentedControl
            aria-label={t("giftCards.payment")}
            data={[
              { value: "money", label: t("giftCards.payMoney") },
              { value: "points", label: t("giftCards.payPoints") },
            ]}
            {...form.getInputProps("payment.method")}
          />
          {values.payment.method === "money" ? (
            <TextInput label={t("giftCards.paymentReference")} {...form.getInputProps("payment.reference")} />
          ) : (
            <TextInput label={t("giftCards.payingMember")} {...form.getInputProps("payment.member_id")} />
          )}
          {place.error instanceof ApiError && place.error.problems.length === 0 && <ErrorNote error={place.error} />}
          {!(place.error instanceof ApiError) && <ErrorNote error={place.error} />}
          <Button type="submit" size="lg" loading={place.isPending}>
            {t("giftCards.place")}
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

function OrderStatus({ orderId }: { orderId: string }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const order = useQuery({
    queryKey: ["gift-card-order", orderId],
    queryFn: () => unwrap(api.GET("/v1/gift-cards/orders/{order_id}", { params: { path: { order_id: orderId } } })),
    // SevenDar moves an order along over days; while the page is open, look every 5 s.
    refetchInterval: (query) => (["delivered", "failed", "cancelled"].includes(query.state.data?.status ?? "") ? false : 5000),
  });
  if (order.isPending) return <Loading />;
  if (order.data === undefined) return <ErrorNote error={order.error} />;
  const data = order.data;
  return (
    <Card withBorder padding="md" radius="md" data-testid="gift-card-order">
      <Group justify="space-between" mb="sm">
        <Text fw={700}>
          {t(`giftCards.kinds.${data.kind === "loyalty_card" ? "loyalty_card" : "gift_card"}`)} × {data.quantity}
          {data.nominal_kopecks ? ` · ${formatKopecks(data.nominal_kopecks, i18n.language)}` : ""}
        </Text>
        <Badge size="lg" color={data.status === "failed" ? "red" : data.status === "delivered" ? "green" : "blue"}>
          {t(`giftCards.status.${data.status}`, { defaultValue: data.status })}
        </Badge>
      </Group>
      <Text size="sm" mb="sm">
        <code>{data.order_id}</code>
        {data.tracking_number && ` · ${t("giftCards.tracking")}: ${data.tracking_number}`}
      </Text>
      {data.failure_reason && <Text c="red.9">{data.failure_reason}</Text>}
      <Timeline active={data.history.length - 1} bulletSize={18}>
        {data.history.map((change) => (
          <Timeline.Item key={`${change.status}-${change.at}`} title={t(`giftCards.status.${change.status}`, { defaultValue: change.status })}>
            <Text size="sm">{new Date(change.at).toLocaleString(i18n.language)}</Text>
          </Timeline.Item>
        ))}
      </Timeline>
    </Card>
  );
}

/** SevenDar gift cards and plastic loyalty cards: the design catalog, orders and their status. */
export default function GiftCardsScreen() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const designs = useQuery({ queryKey: ["gift-card-designs"], queryFn: () => unwrap(api.GET("/v1/gift-cards/designs")) });
  const [ordering, setOrdering] = useState(false);
  const [orders, setOrders] = useState<string[]>(recentOrders);
  const [lookup, setLookup] = useState("");
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("screens.gift-cards")}</Title>
        <Button leftSection={<IconPlus aria-hidden />} onClick={() => setOrdering(true)} disabled={designs.data === undefined}>
          {t("giftCards.newOrder")}
        </Button>
      </Group>
      {designs.isPending && <Loading />}
      <ErrorNote error={designs.error} />
      <Title order={3} size="h4">
        {t("giftCards.designs")}
      </Title>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
        {(designs.data?.designs ?? []).map((design) => (
          <Card key={design.id} withBorder padding="sm" radius="md">
            <Card.Section>
              <Image src={design.preview_url} fallbackSrc={PLACEHOLDER} alt={design.name} h={140} fit="cover" />
            </Card.Section>
            <Text fw={600} mt="sm">
              {design.name}
            </Text>
            <Text size="sm">
              {t(`giftCards.kinds.${design.kind}`)}
              {design.min_nominal_kopecks !== null && design.min_nominal_kopecks !== undefined && design.max_nominal_kopecks
                ? ` · ${formatKopecks(design.min_nominal_kopecks, i18n.language)} – ${formatKopecks(design.max_nominal_kopecks, i18n.language)}`
                : ""}
            </Text>
          </Card>
        ))}
      </SimpleGrid>
      <Title order={3} size="h4">
        {t("giftCards.orders")}
      </Title>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const id = lookup.trim();
          if (id !== "") setOrders((old) => [id, ...old.filter((x) => x !== id)]);
        }}
      >
        <Group align="flex-end">
          <TextInput label={t("giftCards.findOrder")} value={lookup} onChange={(e) => setLookup(e.currentTarget.value)} style={{ flex: "1 1 14rem" }} />
          <Button type="submit" variant="default">
            {t("members.search")}
          </Button>
        </Group>
      </form>
      {orders.length === 0 && <Text>{t("giftCards.noOrders")}</Text>}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {orders.map((orderId) => (
          <OrderStatus key={orderId} orderId={orderId} />
        ))}
      </SimpleGrid>
      {ordering && designs.data && (
        <NewOrder
          designs={designs.data.designs}
          onClose={() => setOrdering(false)}
          onPlaced={(order) => {
            setOrdering(false);
            setOrders((old) => [order.order_id, ...old.filter((x) => x !== order.order_id)]);
          }}
        />
      )}
    </Stack>
  );
}
