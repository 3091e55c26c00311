// Builds the dashboard into dist/: one ES module bundle (plus a chunk for
// Entra sign-in, loaded only in AWS) and one stylesheet, named by content
// hash, and an index.html that loads them. No inline script or style, so
// the Content-Security-Policy can forbid both.
import * as esbuild from "esbuild";
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const result = await esbuild.build({
  entryPoints: [join(here, "src/main.tsx")],
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  sourcemap: false,
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  jsx: "automatic",
  jsxImportSource: "preact",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});

let js = "", css = "";
// Dynamic imports (the Entra chunk) are entry points too: pick main's.
for (const [file, out] of Object.entries(result.metafile.outputs)) {
  if (out.entryPoint?.endsWith("src/main.tsx") && file.endsWith(".js")) {
    js = relative(dist, join(process.cwd(), file));
    if (out.cssBundle) css = relative(dist, join(process.cwd(), out.cssBundle));
  }
}
if (!js) throw new Error("build: no JavaScript bundle was written");
const html = readFileSync(join(here, "src/index.html"), "utf8")
  .replace("%SCRIPT%", "/" + js)
  .replace("%STYLE%", css ? `<link rel="stylesheet" href="/${css}">` : "");
writeFileSync(join(dist, "index.html"), html);

// The sizes a reviewer asks for: what a first visit downloads, gzipped.
let total = 0, gz = 0;
const lines = [];
for (const file of Object.keys(result.metafile.outputs).concat([join(relative(process.cwd(), dist), "index.html")])) {
  if (file.endsWith(".map") || file.endsWith(".LEGAL.txt")) continue;
  const data = readFileSync(join(process.cwd(), file));
  const g = gzipSync(data, { level: 9 }).length;
  total += data.length; gz += g;
  lines.push(`  ${relative(dist, join(process.cwd(), file)).padEnd(40)} ${String(data.length).padStart(8)} B  ${String(g).padStart(7)} B gzip`);
}
console.log("web: built dist/\n" + lines.join("\n") + `\n  ${"total".padEnd(40)} ${String(total).padStart(8)} B  ${String(gz).padStart(7)} B gzip`);
writeFileSync(join(dist, "sizes.json"), JSON.stringify({ bytes: total, gzipBytes: gz }));
