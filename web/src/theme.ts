import { type CSSVariablesResolver, createTheme } from "@mantine/core";

export const theme = createTheme({
  primaryColor: "blue",
  // WCAG AA: white on blue.6 is 3.5:1; blue.8 is 5:1. Filled badges and buttons pick black or
  // white text by their background's luminance.
  primaryShade: { light: 8, dark: 6 },
  autoContrast: true,
  luminanceThreshold: 0.25,
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
  // Touch first: the till is used on tablets and phones with wet fingers.
  components: {
    Button: { defaultProps: { size: "md" } },
    TextInput: { defaultProps: { size: "md" } },
    NumberInput: { defaultProps: { size: "md" } },
    Select: { defaultProps: { size: "md" } },
    PasswordInput: { defaultProps: { size: "md" } },
  },
});

/** Secondary text and errors dark enough for WCAG AA contrast (Mantine's default dimmed grey is 3.3:1). */
export const cssVariables: CSSVariablesResolver = (t) => ({
  variables: {},
  // The error red of invalid fields too: Mantine's red.6 on white is 3.6:1, red.8 passes AA.
  // Light-variant controls under the pointer (the current screen's navigation link): blue.9 text
  // on Mantine's hover blue.2 is 4.0:1; on blue.0 it is 5.5:1 (at rest, on blue.1, 4.9:1).
  light: {
    "--mantine-color-dimmed": t.colors.gray[7],
    "--mantine-color-error": t.colors.red[8],
    "--mantine-color-blue-light-hover": t.colors.blue[0],
  },
  dark: { "--mantine-color-dimmed": t.colors.dark[1] },
});
