#!/usr/bin/env bash
# Runs every check of the project, installing what it needs first (idempotent: tools already at
# the right version are kept). This is the test command README.md gives and `.ci/run` calls.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target, clippy, rustfmt"
rustup target add wasm32-unknown-unknown >/dev/null
rustup component add clippy rustfmt >/dev/null 2>&1 || true

# wasm-bindgen-cli must match the wasm-bindgen crate exactly (Cargo.lock is the truth).
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  step "installing wasm-bindgen-cli $bindgen_version (a few minutes, once)"
  # Not --locked: this machine's registry mirror lacks some versions pinned in its lock file.
  # One target directory for both tools: the dependencies they share are built once.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force --target-dir target/tools
fi
if ! command -v wasm-pack >/dev/null 2>&1; then
  step "installing wasm-pack (a few minutes, once)"
  cargo install wasm-pack --target-dir target/tools
fi

step "npm packages (binaryen for wasm-opt)"
npm ci --no-audit --no-fund

step "format and lints (native and wasm32)"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p autoplay-botpress --target wasm32-unknown-unknown --all-targets -- -D warnings

step "the deployed build (-p, no demo feature): lint-clean and without the demo"
cargo clippy -p autoplay-botpress-cli -- -D warnings
deployed=$(cargo run -q -p autoplay-botpress-cli -- demo 2>&1 || true)
case "$deployed" in
  *"unrecognized subcommand 'demo'"*) ;;
  *) echo "the binary built with -p autoplay-botpress-cli still carries the demo" >&2; exit 1 ;;
esac

step "Rust tests"
cargo test --workspace

step "build pkg/ (wasm-pack, size profile)"
node scripts/build-pkg.mjs

step "JavaScript tests against pkg/"
node --test tests/js/

step "Botpress integration: install, type-check, bundle and tests through its handler, Botpress's CLI"
(
  cd botpress-integration
  npm ci --no-audit --no-fund
  npm run check
  npm test
  npm run bp-check
)

step "Botpress plugin: install, type-check, bundle and tests through the sdk's bot server, bp build"
(
  cd botpress-plugin
  npm ci --no-audit --no-fund
  npm run check
  npm test
  npm run bp-build
)

step "benchmark (figures only, never a pass/fail)"
node bench/wasm-vs-js.mjs --runs 100
# A small state-directory run in CI; BENCH_STATE_SESSIONS=20000 for the figure at scale. Built
# without LTO here (minutes less of CI): README's figures come from the release profile's build.
CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16 BENCH_STATE_SESSIONS=500 \
  cargo bench -p autoplay-botpress-cli --bench load
(cd botpress-plugin && npm run bench)

printf '\nall checks passed\n'
