#!/usr/bin/env bash
# Schema fuzzing of `samtal serve`: installs the pinned `schemathesis` in .venv-openapi, starts the
# server on a free port with the tiny fixture model (or $SAMTAL_SERVE_MODEL), and lets schemathesis
# generate requests for every operation of the server's own OpenAPI document (/openapi.json).
# Fails on any 5xx, on any response (2xx, SSE stream or error) whose status code, Content-Type or
# body is not what the document declares, and on a secured operation that answers without the key.
# Bounded: $SAMTAL_OPENAPI_EXAMPLES fuzzed cases per operation (plus schemathesis' fixed set of
# boundary-value "coverage" cases), a fixed seed, one worker, a per-request timeout and an overall
# wall-clock limit. Prints `schemathesis: N cases, F failures, E errors` last.
set -euo pipefail
cd "$(dirname "$0")/.."
st_version=4.32.5
if [ ! -x .venv-openapi/bin/schemathesis ] \
    || [ "$(.venv-openapi/bin/schemathesis --version 2>/dev/null)" != "schemathesis, version $st_version" ]; then
    python3 -m venv .venv-openapi
    .venv-openapi/bin/pip install --quiet "schemathesis==$st_version"
fi
cargo build --quiet --release -p samtal-cli
model=${SAMTAL_SERVE_MODEL:-fixtures/models/tiny-llama}
examples=${SAMTAL_OPENAPI_EXAMPLES:-40}
limit_s=300
repo=$PWD
# schemathesis writes .hypothesis/, .schemathesis/ and its report where it runs: keep them out of
# the repo (and out of the next run, so that the seed alone decides what is generated).
work=$(mktemp -d)
. scripts/lib.sh
start_samtal_serve --model "$model" --embedding-model fixtures/models/tiny-bert --api-key ci-key
trap 'kill $serve_pid 2>/dev/null || true; rm -rf "$serve_log" "$work"' EXIT

# Checks (schemathesis 4.x names):
#   not_a_server_error           no 5xx, whatever was sent (malformed JSON, wrong types, odd methods)
#   status_code_conformance      every status code is documented for its operation
#   content_type_conformance     every Content-Type is one documented for that status
#   response_schema_conformance  every body matches its schema: JSON bodies, each SSE event of a
#                                `"stream": true` response, and the OpenAI error object
#   response_headers_conformance documented response headers are present and match
#   ignored_auth                 per operation that the document secures, one request with no
#                                Authorization and one with a wrong bearer token must get 401/403
#                                (public operations declare `security: []` and are skipped)
# Left out, on purpose:
#   positive_data_acceptance  wants 2xx for every schema-valid request, but JSON Schema counts 55.0
#                             as an integer (schemathesis sends `"max_tokens": 55.0`) and the server
#                             rejects it with a 400 like any non-integer; a 400 is a documented answer.
#   negative_data_rejection   wants 4xx for every schema-invalid request, so it fails wherever the
#                             server is more lenient than its document, as OpenAI's own API is
#                             (e.g. an explicit null taken as "unset", or with
#                             `additionalProperties: false` an unknown field that is ignored).
#   unsupported_method, allow_header_conformance, missing_required_header and the stateful checks
#   (use_after_free, ensure_resource_availability, object_level_authorization): about HTTP plumbing
#                             or resources this API does not have; requests with undeclared methods
#                             (TRACE, PUT, QUERY, ...) are still sent and still must not get a 5xx.
# --mode all (the default) sends both schema-valid and schema-invalid requests; every answer to
# either is checked as above, so the server's 4xx errors must match the documented error object.
set +e
(
    cd "$work"
    timeout --kill-after=10 "$limit_s" "$repo/.venv-openapi/bin/schemathesis" run "$addr/openapi.json" \
        --header "Authorization: Bearer ci-key" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,ignored_auth \
        --mode all \
        --max-examples "$examples" \
        --seed 42 \
        --workers 1 \
        --generation-database none \
        --request-timeout 30 \
        --output-sanitize false \
        --no-color \
        --report json --report-json-path "$work/report.json"
)
st_rc=$?
set -e
# Summed up from its JSON report, which counts test cases over all phases (schemathesis' own
# "Test cases: N generated" line). Its warnings fail the run too: with a wrong key every request
# gets a 401 (missing_auth) and the run would otherwise pass while testing nothing.
.venv-openapi/bin/python - "$work/report.json" "$st_rc" "$limit_s" <<'EOF'
import json, sys

path, rc, limit_s = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if rc in (124, 137):
    print(f"schemathesis: timed out ({limit_s} s)")
    sys.exit(1)
try:
    with open(path) as f:
        report = json.load(f)
except (OSError, ValueError) as exc:
    print(f"schemathesis: no report ({exc}), exit code {rc}")
    sys.exit(1)
cases = report["test_cases"]
failures = cases["unique_failures"]
errors = sum(e.get("count", 1) for e in report.get("errors") or [])
ok = failures == 0 and errors == 0 and cases["errored"] == 0 and rc == 0
if report["operations"]["tested"] == 0 or cases["generated"] == 0:
    print("schemathesis: nothing was tested")
    ok = False
# validation_mismatch ("mostly rejected generated data") is reported, not failed: the server
# rightly refuses combinations JSON Schema cannot express (a conversation that does not end with
# the user's message, top_logprobs without logprobs, token ids outside the model's vocabulary,
# a list prompt of more than one string), and with some twenty optional fields most random
# requests hold one of them. Every one of those refusals is still checked as a documented 400.
for kind, operations in (report.get("warnings") or {}).items():
    if operations and kind == "validation_mismatch":
        print(f"schemathesis: note: mostly refused as the server documents: {', '.join(operations)}")
    elif operations and kind != "constants_extraction":
        print(f"schemathesis: warning {kind}: {', '.join(operations)}")
        ok = False
print(f"schemathesis: {cases['generated']} cases, {failures} failures, {errors} errors")
sys.exit(0 if ok else 1)
EOF
stop_samtal_serve
