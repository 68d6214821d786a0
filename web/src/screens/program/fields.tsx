import { NumberInput, type NumberInputProps } from "@mantine/core";
import type { UseFormReturnType } from "@mantine/form";

import type { ProgramForm } from "./programForm";

export type Form = UseFormReturnType<ProgramForm>;

function kopecksAt(form: Form, path: string): number {
  const value: unknown = form.getInputProps(path).value;
  return typeof value === "number" ? value : 0;
}

/** A kopecks field shown and typed in roubles. */
export function MoneyInput({ model: form, path, ...props }: { model: Form; path: string } & NumberInputProps) {
  const input = form.getInputProps(path);
  return (
    <NumberInput
      {...props}
      value={kopecksAt(form, path) / 100}
      onChange={(value) => form.setFieldValue(path, Math.round(Number(value || 0) * 100))}
      error={input.error as string | undefined}
      decimalScale={2}
      thousandSeparator=" "
      decimalSeparator=","
      suffix=" ₽"
      min={0}
    />
  );
}

/** A number field that leaves range checks to the API, so its own message shows in place. */
export function Num({ model: form, path, ...props }: { model: Form; path: string } & NumberInputProps) {
  return <NumberInput {...props} {...form.getInputProps(path)} />;
}
