import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served under /app/ both by the local stack and by CloudFront (see infra/local/web.py and
// template.yaml); config.json beside index.html is read at run time, never bundled.
export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        // Charts and the camera scanner are only on some screens: their own chunks keep the
        // till's first load small.
        manualChunks(id: string) {
          if (/node_modules\/(recharts|d3-|@mantine\/charts)/.test(id)) return "charts";
          if (id.includes("node_modules/@zxing")) return "scanner";
          if (id.includes("node_modules/@mantine") || id.includes("node_modules/react")) return "vendor";
          return undefined;
        },
      },
    },
  },
  server: {
    // `npm run dev` against a running `make run`: same-origin API calls through the proxy.
    proxy: { "/v1": "http://127.0.0.1:8000", "/app/config.json": "http://127.0.0.1:8000" },
  },
});
