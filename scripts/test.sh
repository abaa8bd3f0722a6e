#!/usr/bin/env bash
# Runs every check of the project, installing what it needs first (idempotent: tools already at
# the right version are kept). This is the test command README.md gives and `.ci/run` calls.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step() { printf '\n==> [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"; }

# Long builds that need no attention run beside the steps that mostly wait (tests of servers and
# timeouts), at the lowest CPU priority so those steps keep the machine: `aside NAME CMD…` starts
# one, `joined NAME` waits for it and fails with its log if it failed.
mkdir -p target
declare -A aside_pids
aside() {
  local name=$1
  shift
  (renice -n 19 "$BASHPID" >/dev/null && "$@") >"target/aside-$name.log" 2>&1 &
  aside_pids[$name]=$!
}
joined() {
  if ! wait "${aside_pids[$1]}"; then
    cat "target/aside-$1.log" >&2
    echo "$1 failed (log above)" >&2
    exit 1
  fi
}

# wasm-bindgen-cli must match the wasm-bindgen crate exactly (Cargo.lock is the truth).
install_tools() {
  local bindgen_version
  bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
    echo "installing wasm-bindgen-cli $bindgen_version"
    # Not --locked: this machine's registry mirror lacks some versions pinned in its lock file.
    # One target directory for both tools: the dependencies they share are built once.
    cargo install wasm-bindgen-cli --version "$bindgen_version" --force --target-dir target/tools ||
      return 1
  fi
  if ! command -v wasm-pack >/dev/null 2>&1; then
    echo "installing wasm-pack"
    cargo install wasm-pack --target-dir target/tools || return 1
  fi
}

step "toolchain: wasm32 target, clippy, rustfmt"
rustup target add wasm32-unknown-unknown >/dev/null
rustup component add clippy rustfmt >/dev/null 2>&1 || true

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

step "Rust tests: build"
cargo test --workspace --no-run
step "Rust tests (wasm-pack and wasm-bindgen-cli install beside them, if missing)"
aside tools install_tools
cargo test --workspace
step "waiting for the tool installs"
joined tools
tail -n 2 target/aside-tools.log
# The load bench's release build (its own target directory: cargo locks one per build) goes on
# beside the JavaScript steps. Without LTO here (minutes less of CI): README's figures come from
# the release profile's build.
export CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16
aside bench cargo bench -p autoplay-botpress-cli --bench load --no-run --target-dir target/bench

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
joined bench
# A small state-directory run in CI; BENCH_STATE_SESSIONS=20000 for the figure at scale.
BENCH_STATE_SESSIONS=500 cargo bench -p autoplay-botpress-cli --bench load --target-dir target/bench
(cd botpress-plugin && npm run bench)

printf '\nall checks passed in %dm%02ds\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60))
