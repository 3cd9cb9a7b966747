#!/usr/bin/env bash
# Runs the fuzz targets (cargo-fuzz, libFuzzer) for a bounded time each.
#
#   fuzz/run.sh [SECONDS] [TARGETS...]     default: 30 s each for spec, artifact, prepare
#
# Installs cargo-fuzz if missing, builds on the stable toolchain (RUSTC_BOOTSTRAP=1, no
# sanitizer: the code under test is safe Rust, so a panic or an abort is the bug signal),
# seeds each corpus from the real specs and the format fixtures (generated here, never
# committed), runs each target, and prints one line per target. Exits non-zero if any target
# crashed, timed out or ran out of memory, naming the saved input; replay one with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-...`.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ=$(pwd)
SECONDS_EACH=${1:-30}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(spec artifact prepare)
SPECS=${OPCAT_SPECS:-$FUZZ/../../shared/specs/azure-devops/specification}
export OPCAT_SPECS=$SPECS
export RUSTC_BOOTSTRAP=1
# The fuzz build has its own flags (coverage instrumentation): keep it in fuzz/target.
unset CARGO_TARGET_DIR

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
test -d "$SPECS" || { echo "missing specs: $SPECS (set OPCAT_SPECS)"; exit 1; }

echo "fuzz: building ${TARGETS[*]}"
for t in "${TARGETS[@]}"; do
  cargo fuzz build -s none "$t"
done

# Seed corpora (libFuzzer adds what it finds; these only give it a start).
mkdir -p corpus/spec corpus/artifact corpus/prepare
for f in wiki/7.2/wiki.json policy/7.2/policy.json status/7.2/status.json \
         favorite/7.2/favorite.json operations/7.2/operations.json; do
  [ -f "$SPECS/$f" ] && cp "$SPECS/$f" "corpus/spec/seed-$(basename "$f")"
done
cat > corpus/spec/seed-openapi31.yaml <<'YAML'
openapi: 3.1.0
info: {title: t, version: "1"}
servers: [{url: "https://{service}dev.azure.com", variables: {service: {default: ""}}}]
paths:
  /{organization}/_apis/things/{id}:
    parameters:
      - {in: path, name: organization, required: true, schema: {type: string}}
    get:
      operationId: Things_Get
      tags: [Things]
      parameters:
        - {in: path, name: id, required: true, schema: {type: integer}}
        - {in: query, name: $top, schema: {type: [integer, "null"]}}
        - {in: query, name: state, schema: {$ref: "#/components/schemas/State"}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}
    patch:
      operationId: Things_Update
      requestBody:
        required: true
        content:
          application/json-patch+json:
            schema: {type: array, items: {$ref: "other.json#/definitions/Op"}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}}
components:
  schemas:
    State: {type: string, enum: [active, closed], x-ms-enum: {name: State}}
    Thing:
      type: object
      required: [id]
      properties:
        id: {type: integer, format: int32}
        child: {$ref: "#/components/schemas/Thing"}
        tags: {type: object, additionalProperties: {type: string}}
        any: {oneOf: [{type: string}, {type: number}], nullable: true}
YAML
for f in ../tests/fixtures/*.opcat; do
  [ -f "$f" ] && cp "$f" "corpus/artifact/seed-$(basename "$f")"
done
# Inputs that once crashed a target (kept in crashes/, named <target>-<what>) are replayed
# first, so a fixed crash that comes back fails the run.
for f in crashes/*; do
  t=$(basename "$f"); t=${t%%-*}
  [ -d "corpus/$t" ] && cp "$f" "corpus/$t/crash-$(basename "$f")"
done
# prepare: operation index (u16 LE), flags (1 org, 2 service, 4 base-URL line, 8 name line,
# 16 vsrm), then JSON arguments.
seed() { printf '%b' "$2" > "corpus/prepare/seed-$1"; }
seed 0 '\x00\x00\x01{"project":"Fabrikam","wikiIdentifier":"w","path":"/a b/../c","includeContent":true}'
seed 1 '\x05\x00\x01{"project":"p","repositoryId":"r","$top":3,"searchCriteria.status":"active"}'
seed 2 '\x11\x00\x05http://127.0.0.1:8080\n{"project":"p%2F..","repositoryId":"..","ids":[1,2]}'
seed 3 '\x20\x00\x09git.repositories.list\n{"project":"p","includeLinks":false}'
seed 4 '\x33\x00\x00[1,{"a":null}]'
seed 5 '\x40\x00\x03{"project":"p","body":{"name":"x","parentRepository":{"id":"r"}}}'

status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "artifacts/$t" logs
  marker=$(mktemp)
  log="logs/$t.log"
  start=$(date +%s)
  set +e
  cargo fuzz run -s none "$t" -- -max_total_time="$SECONDS_EACH" -timeout=60 \
    -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  wall=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  corpus=$(find "corpus/$t" -type f | wc -l)
  # Crashes, timeouts (over -timeout), OOMs and leaks fail the run. libFuzzer also saves
  # "slow-unit" inputs (over 10 s, under the timeout): reported, not failed.
  found=$(find "artifacts/$t" -type f -newer "$marker" ! -name 'slow-unit-*' | sort)
  slow=$(find "artifacts/$t" -type f -newer "$marker" -name 'slow-unit-*' | sort)
  rm -f "$marker"
  if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
    echo "fuzz $t: ${execs:-?} executions in ${wall} s, corpus ${corpus}, no crash"
    for f in $slow; do echo "  slow input (not a failure): fuzz/$f"; done
  else
    status=1
    echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions in ${wall} s; log: fuzz/$log"
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -5 | sed 's/^/  /'
    for f in $found; do echo "  crash input: fuzz/$f"; done
  fi
done
exit $status
