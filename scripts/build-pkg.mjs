#!/usr/bin/env node
// Builds the npm package in pkg/ from the Rust crate:
//   pkg/index.js + index.d.ts  the API for Node (CommonJS): js/facade.cjs over the WebAssembly
//                              exports of autoplay_botpress.js (wasm-pack --target nodejs); the
//                              declarations are the Rust types' (examples/typescript.rs) and the
//                              functions' (js/api.d.ts)
//   pkg/inline.mjs             the same API as an ES module with the .wasm inlined (no file access
//                              at run time), for bundlers folding it into a single-file Botpress
//                              integration: DEFLATE-compressed, base64-encoded, inflated at import
//                              by node:zlib where the runtime has it, else by fflate (pkg/fflate.mjs,
//                              copied from the npm package: importing `node:zlib` would break the
//                              browser-target bundle `bp build` makes of a plugin); both inline
//                              entries initialize the same web glue, pkg/core_web.mjs
//   pkg/inline_node.mjs        what `autoplay-botpress/inline` resolves to under the `node` export
//                              condition (Node, and bundlers targeting it: `bp build` of an
//                              integration): brotli-compressed, inflated by node:zlib, no fflate
//   pkg/limits.json            the bounds and defaults of the context options, from the core, for
//                              the integration's configuration
//   pkg/schemas.json           JSON Schemas of the rows, signals, nudges and context the package
//                              returns, from the Rust types, for the integration's zod shapes
// The WebAssembly exports take and return JSON text; the facade is the public API. Both builds
// use the same size-tuned `wasm-release` cargo profile.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, copyFileSync, statSync, existsSync } from "node:fs";
import { brotliCompressSync, deflateRawSync, constants } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");
const web = join(root, "target", "pkg-web");
// The raw WebAssembly build: internal, JSON text in and out; the facade (index.js) is the API.
const name = "core";

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
writeFileSync(join(pkg, `${name}_web.mjs`), glue);
const wasm = readFileSync(join(web, `${name}_bg.wasm`));
const deflated = deflateRawSync(wasm, { level: constants.Z_BEST_COMPRESSION });
const brotli = brotliCompressSync(wasm, {
  params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: wasm.length },
});
// fflate's ES module build, next to the glue (no dependency for the package's users to install).
copyFileSync(join(root, "node_modules", "fflate", "esm", "browser.js"), join(pkg, "fflate.mjs"));
/** An ES module exporting the glue's functions, initialized at import with the embedded module. */
const embedding = (imports, how, packed, init) => `${imports}
export * from "./${name}_web.mjs";
import { initSync } from "./${name}_web.mjs";
// --- added by scripts/build-pkg.mjs: the module below is ${name}_bg.wasm (${wasm.length} bytes),
// ${how} (${packed.length} bytes) and base64-encoded ---
const __wasmBase64 = "${packed.toString("base64")}";
${init}
`;
// Any runtime (the default): DEFLATE, inflated by Node's own base64 and zlib when the runtime has
// them (several times faster on a cold start), looked up at run time so a browser-target bundle
// never imports \`node:zlib\`; by fflate otherwise.
writeFileSync(
  join(pkg, "inline_raw.mjs"),
  embedding(`import { inflateSync as __inflate } from "./fflate.mjs";`, "DEFLATE-compressed", deflated, `const __zlib = globalThis.process?.getBuiltinModule?.("node:zlib");
const __packed = globalThis.Buffer
  ? globalThis.Buffer.from(__wasmBase64, "base64")
  : Uint8Array.from(atob(__wasmBase64), (c) => c.charCodeAt(0));
initSync({ module: __zlib ? __zlib.inflateRawSync(__packed) : __inflate(__packed) });`),
);
// Node (the \`node\` export condition, which bundlers targeting Node and Node itself pick):
// brotli, which node:zlib always has, about a fifth smaller than DEFLATE on this module, and no
// fflate in the bundle.
writeFileSync(
  join(pkg, "inline_node_raw.mjs"),
  embedding(`import { brotliDecompressSync } from "node:zlib";`, "brotli-compressed", brotli, `initSync({ module: brotliDecompressSync(Buffer.from(__wasmBase64, "base64")) });`),
);

// The public API: the facade over either build of the exports.
const api = [
  "mapActionsToRows", "parseWebhookBody", "detectSignals", "contextQueries", "buildAgentContext",
  "renderAgentContext", "fetchAgentContext", "normalizeId",
];
copyFileSync(join(root, "js", "facade.cjs"), join(pkg, "facade.cjs"));
writeFileSync(
  join(pkg, "index.js"),
  `"use strict";\nmodule.exports = require("./facade.cjs").makeApi(require("./${name}.js"));\n`,
);
for (const [entry, raw] of [["inline.mjs", "inline_raw.mjs"], ["inline_node.mjs", "inline_node_raw.mjs"]]) {
  writeFileSync(
    join(pkg, entry),
    `import * as raw from "./${raw}";\nimport facade from "./facade.cjs";\n\n` +
      `const api = facade.makeApi(raw);\nexport const { ${api.join(", ")} } = api;\n`,
  );
}
// The declarations: the data types generated from the Rust types, then the functions.
console.error("generating the TypeScript declarations from the Rust types");
const types = execFileSync(
  "cargo",
  ["run", "--quiet", "-p", "autoplay-botpress", "--example", "typescript", "--features", "typescript"],
  { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
);
// The bounds of the context options, for the integration's configuration to use as they are,
// and the JSON Schemas of what the package returns, which the integration's zod shapes are built
// from.
for (const generated of ["limits", "schemas"]) {
  const json = execFileSync(
    "cargo",
    ["run", "--quiet", "-p", "autoplay-botpress", "--example", "typescript", "--features", "typescript", "--", generated],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  writeFileSync(join(pkg, `${generated}.json`), json);
}
const declarations = `${types}
${readFileSync(join(root, "js", "api.d.ts"), "utf8")}`;
writeFileSync(join(pkg, "index.d.ts"), declarations);
writeFileSync(join(pkg, "inline.d.ts"), declarations);

const manifestPath = join(pkg, "package.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const files = [
  "index.js", "index.d.ts", "facade.cjs", `${name}_web.mjs`, "inline.mjs", "inline_raw.mjs", "inline_node.mjs",
  "inline_node_raw.mjs", "fflate.mjs", "inline.d.ts", "limits.json",
  "schemas.json",
];
manifest.files = [...new Set([...(manifest.files ?? []), ...files])];
manifest.main = "index.js";
manifest.types = "index.d.ts";
manifest.exports = {
  ".": { types: "./index.d.ts", require: "./index.js", default: "./index.js" },
  "./inline": { types: "./inline.d.ts", node: "./inline_node.mjs", import: "./inline.mjs", default: "./inline.mjs" },
  "./limits.json": "./limits.json",
  "./schemas.json": "./schemas.json",
  "./package.json": "./package.json",
};
manifest.engines = { node: ">=18" };
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");

// The module's size, raw and as the bundle carries it (deflated).
const size = statSync(join(pkg, `${name}_bg.wasm`)).size;
console.error(
  `pkg/ ready: ${name}_bg.wasm is ${(size / 1024).toFixed(1)} KiB (${size} bytes), ` +
    `${deflated.length} bytes deflated in inline.mjs, ${brotli.length} bytes brotli-compressed in inline_node.mjs`,
);
