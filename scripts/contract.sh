#!/usr/bin/env bash
# The contract check of the OpenAPI document a live otoq serves: `@redocly/cli lint` (recommended
# rules) and `openapi-spec-validator` with no errors and no warnings, then two generated clients —
# Python from openapi-generator, TypeScript from openapi-typescript + openapi-fetch — each running
# a short story (agent, text source, ready, chat, lead, leads since, analytics from/to, webhook,
# delete) against it. Tools are pinned: PyPI versions below, npm by tests/contract/package-lock.json.
# Generated code goes to target/contract (never committed). Needs Java 17 for openapi-generator.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$PWD/target/contract
venv=$PWD/target/contract-venv
rm -rf "$out"
mkdir -p "$out"
if ! command -v java >/dev/null 2>&1; then
  echo "== installing a Java runtime (openapi-generator needs one) from Debian's packages"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null;
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; fi
fi
if ! "$venv/bin/python" -c 'import openapi_spec_validator, openapi_generator_cli' 2>/dev/null; then
  echo "== installing openapi-spec-validator and openapi-generator-cli (PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "openapi-spec-validator==0.9.0" "openapi-generator-cli==7.26.0"
fi
if [ ! -d tests/contract/node_modules/@redocly/cli ]; then
  echo "== installing @redocly/cli, openapi-typescript, openapi-fetch (npm ci)"
  (cd tests/contract && npm ci --no-audit --no-fund --loglevel=error)
fi
cargo build -q --bin otoq
bin=${CARGO_TARGET_DIR:-$PWD/target}/debug/otoq

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export OTOQ_DATA_DIR=$work OTOQ_BIND=127.0.0.1:$port RUST_LOG=warn OTOQ_EMBEDDER=none \
  OTOQ_ALLOW_PRIVATE_NETWORKS=true OTOQ_WEBHOOK_TIMEOUT_SECS=2
unset OTOQ_PUBLIC_URL DATABASE_URL REDIS_URL
key=$("$bin" accounts create --email story@example.com --plan pro | python3 -c 'import sys,json; print(json.load(sys.stdin)["api_key"])')
"$bin" serve >"$work/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$port
curl -sf "$base/api/v1/openapi.json" -o "$out/openapi.json"

echo "== redocly lint (recommended rules; no errors, no warnings)"
lint=$(cd tests/contract && node node_modules/@redocly/cli/bin/cli.js lint --extends=recommended \
  --format=codeframe "$out/openapi.json" 2>&1) || { echo "$lint"; exit 1; }
if grep -qiE '[0-9]+ warnings?' <<<"$lint" && ! grep -qiE '\b0 warnings' <<<"$lint"; then
  echo "$lint"; echo "redocly reports warnings"; exit 1
fi
echo "== openapi-spec-validator"
"$venv/bin/python" -W error -m openapi_spec_validator "$out/openapi.json"

echo "== Python client (openapi-generator) story"
"$venv/bin/openapi-generator-cli" generate -i "$out/openapi.json" -g python -o "$out/py" \
  --package-name otoq_client --global-property apiTests=false,modelTests=false >"$out/py-generate.log" 2>&1 ||
  { cat "$out/py-generate.log"; exit 1; }
"$venv/bin/pip" install -q "$out/py"
OTOQ_BASE=$base OTOQ_KEY=$key "$venv/bin/python" tests/contract/story.py

echo "== TypeScript client (openapi-typescript + openapi-fetch) story"
mkdir -p "$out/ts"
node tests/contract/node_modules/openapi-typescript/bin/cli.js "$out/openapi.json" -o "$out/ts/schema.d.ts" >/dev/null
cp tests/contract/story.ts tests/contract/tsconfig.json "$out/ts/"
echo '{"type": "module"}' >"$out/ts/package.json"
ln -s "$PWD/tests/contract/node_modules" "$out/ts/node_modules"
(cd "$out/ts" && node node_modules/typescript/bin/tsc -p .)
OTOQ_BASE=$base OTOQ_KEY=$key node "$out/ts/story.js"
echo "contract: ok"
