import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const version = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf-8")).version as string;

/** Writes ``VERSION``: the server shows it in the ``admin`` capability of ``GET /v1/``. */
function versionFile(): Plugin {
  return {
    name: "kinto-admin-version",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "VERSION", source: `${version}\n` });
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the page works wherever the server mounts it (/v1/admin/ by default).
  base: "./",
  plugins: [versionFile()],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../server/src/kinto/plugins/admin/build", import.meta.url)),
    emptyOutDir: true,
    // The page's Content-Security-Policy allows scripts from its own origin only: nothing inline.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // ``npm run dev`` against a local ``kinto start`` (port 8888): the API is proxied, same origin.
    proxy: { "/v1": { target: "http://127.0.0.1:8888", changeOrigin: false } },
  },
});
