// Builds the console into dist/: one entry script and stylesheet, lazily
// loaded chunks, and the index.html naming them. Every name carries its
// content hash, so the server can let browsers keep assets forever, and the
// same sources always give the same bytes (CI rebuilds and compares).
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

const dist = new URL("./dist/", import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

const result = await build({
  entryPoints: { app: "src/main.tsx", style: "src/style.css" },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  minify: true,
  metafile: true,
  legalComments: "none",
  charset: "utf8",
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "[name]-[hash]",
  publicPath: "/console/",
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs);
const entry = (name) =>
  basename(outputs.find(([, o]) => o.entryPoint && o.entryPoint.includes(name))[0]);
const script = entry("main.tsx");
const style = outputs
  .map(([path]) => basename(path))
  .find((name) => name.startsWith("style-") && name.endsWith(".css"));

writeFileSync(
  `${dist}index.html`,
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tombola console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/${style}">
<script type="module" src="/console/${script}"></script>
</head>
<body>
<div id="app"><noscript>The tombola console needs JavaScript.</noscript></div>
</body>
</html>
`,
);
// The empty style entry's script is of no use.
for (const [path] of outputs) {
  if (basename(path).startsWith("style-") && path.endsWith(".js")) rmSync(path);
}

// The first screen: the page, its stylesheet and the script with what it
// imports statically (lazily loaded chunks are not fetched until used).
const { gzipSync } = await import("node:zlib");
const { readFileSync } = await import("node:fs");
const first = new Set(["index.html", style]);
const walk = (name) => {
  if (first.has(name)) return;
  first.add(name);
  const [, output] = outputs.find(([path]) => basename(path) === name);
  for (const i of output.imports) if (i.kind === "import-statement") walk(basename(i.path));
};
walk(script);
const gzip = [...first].reduce((sum, name) => sum + gzipSync(readFileSync(dist + name), { level: 9 }).length, 0);
console.log(`first screen: ${(gzip / 1024).toFixed(1)} KiB gzip (${[...first].join(", ")})`);
