import "@mantine/core/styles.css";
import "@mantine/charts/styles.css";
import "@mantine/notifications/styles.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App";
import { loadConfig } from "./config";
import { setupI18n } from "./i18n";

const container = document.getElementById("root");
if (container === null) throw new Error("no #root element");
const root = createRoot(container);

Promise.all([loadConfig(), setupI18n()])
  .then(([config]) => {
    root.render(
      <StrictMode>
        <App config={config} />
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    // Before i18n and Mantine: plain words in both languages.
    const message = error instanceof Error ? error.message : String(error);
    container.textContent = `Не удалось запустить приложение / The app could not start: ${message}`;
  });
