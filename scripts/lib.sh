# Shared by the scripts that test `samtal serve` from outside (sourced, not run).

# Starts target/release/samtal serve on a free port with the given arguments and waits until it
# has loaded its model. Sets serve_pid, serve_log and addr (http://127.0.0.1:PORT); on failure
# prints what the server said and exits. The caller stops it (stop_samtal_serve, or its trap).
start_samtal_serve() {
    serve_log=$(mktemp)
    target/release/samtal serve --port 0 "$@" 2>"$serve_log" &
    serve_pid=$!
    for _ in $(seq 1 1200); do
        grep -q "ready" "$serve_log" && break
        kill -0 "$serve_pid" 2>/dev/null || { cat "$serve_log"; exit 1; }
        sleep 0.1
    done
    addr=$(sed -n 's/^samtal serve: listening on //p' "$serve_log")
    if ! grep -q "ready" "$serve_log" || [ -z "$addr" ]; then
        kill "$serve_pid" 2>/dev/null || true
        cat "$serve_log"
        exit 1
    fi
}

# Stops the server with SIGTERM (a clean shutdown is part of what is tested) and removes its log.
stop_samtal_serve() {
    kill -TERM "$serve_pid"
    wait "$serve_pid" || true
    rm -f "$serve_log"
}

# The agent and RAG clients' venv, rebuilt when scripts/requirements-agents.txt changes.
agents_venv() {
    local req=scripts/requirements-agents.txt
    if [ ! -x .venv-agents/bin/python ] || ! cmp -s "$req" .venv-agents/requirements-agents.txt; then
        rm -rf .venv-agents
        python3 -m venv .venv-agents
        .venv-agents/bin/pip install --quiet --disable-pip-version-check -r "$req"
        cp "$req" .venv-agents/requirements-agents.txt
    fi
}
