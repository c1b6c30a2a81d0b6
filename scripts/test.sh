#!/usr/bin/env bash
# The whole test suite on a fresh machine: services, the Rust suite on SQLite and on
# Postgres + Redis, then schemathesis against the live spec.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
# Leftover databases of earlier runs on this machine.
psql -h 127.0.0.1 -U postgres -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'otoq_test_%'" |
  while read -r db; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done

cargo nextest run --workspace --profile ci
bash scripts/schemathesis.sh
