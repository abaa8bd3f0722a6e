// The inlined module of pkg/inline.mjs, inflated by fflate: the path a runtime without
// `node:zlib` (a browser-target `bp build`) takes, checked here where Node would take its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { inflateRawSync } from "node:zlib";
import { inflateSync } from "../../pkg/fflate.mjs";

const source = readFileSync(new URL("../../pkg/inline_raw.mjs", import.meta.url), "utf8");
const packed = Buffer.from(source.match(/const __wasmBase64 = "([^"]+)"/)[1], "base64");

test("fflate inflates the embedded module into the exports the package calls, as node:zlib does", () => {
  const wasm = inflateSync(packed);
  assert.deepEqual(Buffer.from(wasm), inflateRawSync(packed));
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name);
  for (const name of ["mapActionsToRows", "parseWebhookBody", "buildAgentContext", "renderAgentContext"]) {
    assert.ok(exports.includes(name), `${name} missing from ${exports.join(", ")}`);
  }
});

test("the embedded module is smaller than the module it inflates to", () => {
  assert.ok(packed.length < inflateSync(packed).length);
});
