#!/usr/bin/env node
// Builds the npm package in pkg/ from the Rust crate:
//   pkg/autoplay_botpress.js   CommonJS for Node (wasm-pack --target nodejs; reads the .wasm file)
//   pkg/inline.mjs             ES module with the .wasm inlined (no file access at run time), for
//                              bundlers folding it into a single-file Botpress integration
// Both use the same size-tuned `wasm-release` cargo profile.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, copyFileSync, statSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");
const web = join(root, "target", "pkg-web");
const name = "autoplay_botpress";

function wasmPack(target, outDir) {
  console.error(`building ${target} package → ${outDir}`);
  execFileSync(
    "wasm-pack",
    ["build", "--target", target, "--profile", "wasm-release", "--out-dir", outDir, "--out-name", name, root],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
}

// wasm-pack's own wasm-opt step would download binaryen; use the npm one (a devDependency).
const wasmOpt = join(root, "node_modules", ".bin", "wasm-opt");
function optimize(dir) {
  const file = join(dir, `${name}_bg.wasm`);
  if (!existsSync(wasmOpt)) {
    console.error("wasm-opt not found (run `npm ci`): keeping the unoptimized .wasm");
    return;
  }
  const features = ["bulk-memory", "nontrapping-float-to-int", "sign-ext", "mutable-globals", "reference-types", "multivalue"];
  execFileSync(wasmOpt, ["-Oz", ...features.map((f) => `--enable-${f}`), file, "-o", file], { stdio: "inherit" });
}

wasmPack("nodejs", pkg);
optimize(pkg);
wasmPack("web", web);
optimize(web);

// The web glue exports `initSync`; call it at import time with the embedded bytes. Its async
// loader's fallback (fetching the .wasm next to the module via import.meta.url) can never run
// here, and would stop bundlers from emitting CommonJS, so it is cut out.
const fallback = `new URL('${name}_bg.wasm', import.meta.url)`;
const source = readFileSync(join(web, `${name}.js`), "utf8");
if (!source.includes(fallback)) throw new Error(`wasm-bindgen's web glue changed: ${fallback} not found`);
const glue = source.replace(
  fallback,
  `(() => { throw new Error("${name}/inline is initialized at import; pass the module to init explicitly"); })()`,
);
const wasm = readFileSync(join(web, `${name}_bg.wasm`));
const inline = `${glue}
// --- added by scripts/build-pkg.mjs: the module below is ${name}_bg.wasm, base64-encoded ---
const __wasmBase64 = "${wasm.toString("base64")}";
const __wasmBytes = Uint8Array.from(atob(__wasmBase64), (c) => c.charCodeAt(0));
initSync({ module: __wasmBytes });
`;
writeFileSync(join(pkg, "inline.mjs"), inline);
copyFileSync(join(web, `${name}.d.ts`), join(pkg, "inline.d.ts"));

const manifestPath = join(pkg, "package.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
manifest.files = [...new Set([...(manifest.files ?? []), "inline.mjs", "inline.d.ts"])];
manifest.exports = {
  ".": { types: `./${name}.d.ts`, require: `./${name}.js`, default: `./${name}.js` },
  "./inline": { types: "./inline.d.ts", import: "./inline.mjs", default: "./inline.mjs" },
  "./package.json": "./package.json",
};
manifest.engines = { node: ">=18" };
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");

const size = statSync(join(pkg, `${name}_bg.wasm`)).size;
console.error(`pkg/ ready: ${name}_bg.wasm is ${(size / 1024).toFixed(1)} KiB (${size} bytes)`);
