#!/usr/bin/env bash
# `make cluster-demo`: many workers on this machine, witnessed. A C2SP witness (`docval witness`, meant to run on
# another host for another party) cosigns the root ledger's checkpoints; PostgreSQL + Prefect server + work pool +
# three process workers each write their own shard, which the root anchors. At the end the root and every shard
# are verified with the witness key pinned, as an auditor would.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
export DOCVAL_DATA_DIR=var-cluster DOCVAL_FLOWS__PREFECT_API_URL=http://127.0.0.1:4210/api
witness_dir=var-witness
witness_port=${DOCVAL_DEMO_WITNESS_PORT:-4290}

"$bin/docval" keys init --if-missing
[ -f "$witness_dir/witness.vkey" ] || "$bin/docval" witness init "$witness_dir" --name demo.invalid/witness
origin=$("$bin/docval" config | "$bin/python" -c 'import json, sys; print(json.load(sys.stdin)["ledger"]["origin"])')
"$bin/docval" witness add-log "$witness_dir" --origin "$origin" --vkey "$DOCVAL_DATA_DIR/keys/ledger.vkey"
"$bin/docval" witness serve "$witness_dir" --listen "127.0.0.1:$witness_port" &
witness_pid=$!
trap 'kill "$witness_pid" 2>/dev/null || true' EXIT
export DOCVAL_LEDGER__WITNESSES="[\"http://127.0.0.1:$witness_port $(cat "$witness_dir/witness.vkey")\"]"

"$bin/docval" cluster up --workers 3 --samples --exit-when-idle
"$bin/docval" pending
"$bin/docval" ledger anchor
"$bin/docval" ledger checkpoint >/dev/null
"$bin/docval" ledger verify --vkey "$DOCVAL_DATA_DIR/keys/ledger.vkey" --witness-key "$witness_dir/witness.vkey"
