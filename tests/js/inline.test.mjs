// The two embeddings of the module: pkg/inline.mjs (DEFLATE, inflated by fflate on a runtime
// without `node:zlib`, e.g. the browser-target bundle `bp build` makes of a plugin, checked here
// where Node would take its own) and pkg/inline_node.mjs (brotli, inflated by node:zlib), what
// `autoplay-botpress/inline` resolves to under the `node` export condition.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { brotliDecompressSync, inflateRawSync } from "node:zlib";
import { inflateSync } from "../../pkg/fflate.mjs";
import { GUIDE_BODY } from "./fixtures.mjs";

const embedded = (file) => {
  const source = readFileSync(new URL(`../../pkg/${file}`, import.meta.url), "utf8");
  return Buffer.from(source.match(/const __wasmBase64 = "([^"]+)"/)[1], "base64");
};
const packed = embedded("inline_raw.mjs");
const wasm = readFileSync(new URL("../../pkg/core_bg.wasm", import.meta.url));

test("fflate inflates the embedded module into the exports the package calls, as node:zlib does", () => {
  const inflated = inflateSync(packed);
  assert.deepEqual(Buffer.from(inflated), inflateRawSync(packed));
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(inflated)).map((e) => e.name);
  for (const name of ["mapActionsToRows", "parseWebhookBody", "buildAgentContext", "renderAgentContext"]) {
    assert.ok(exports.includes(name), `${name} missing from ${exports.join(", ")}`);
  }
});

test("the embedded module is smaller than the module it inflates to", () => {
  assert.ok(packed.length < inflateSync(packed).length);
});

test("Node's entry embeds the same module, brotli-compressed and smaller than the DEFLATE one", () => {
  const brotli = embedded("inline_node_raw.mjs");
  assert.deepEqual(brotliDecompressSync(brotli), Buffer.from(inflateSync(packed)));
  assert.deepEqual(brotliDecompressSync(brotli), wasm);
  assert.ok(brotli.length < packed.length, `brotli ${brotli.length} bytes, DEFLATE ${packed.length}`);
});

test("`autoplay-botpress/inline` is the brotli entry in Node, the DEFLATE one elsewhere", async () => {
  const { exports } = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url), "utf8"));
  const conditions = Object.keys(exports["./inline"]);
  assert.equal(exports["./inline"].node, "./inline_node.mjs");
  assert.ok(conditions.indexOf("node") < conditions.indexOf("import"), `conditions in order: ${conditions}`);
  assert.equal(exports["./inline"].default, "./inline.mjs");
  const node = await import("../../pkg/inline_node.mjs");
  const anywhere = await import("../../pkg/inline.mjs");
  assert.deepEqual(node.mapActionsToRows(GUIDE_BODY), anywhere.mapActionsToRows(GUIDE_BODY));
  assert.equal(node.normalizeId("x".repeat(300)), anywhere.normalizeId("x".repeat(300)));
});
