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

# The distribution's packages for a service, installed when missing (PostgreSQL, nginx).
ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >&2
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a throwaway PostgreSQL cluster from the distribution's packages: its data, socket and
# log in a temporary directory, listening on 127.0.0.1 only, no system service. Sets pg_dir,
# pg_bin, pg_port and pg_url (the superuser `samtal`, trusted on loopback, database postgres).
# As root, the server runs as the packages' `postgres` user (PostgreSQL refuses root).
start_postgres() {
    ensure_packages postgresql
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    pg_dir=$(mktemp -d /tmp/samtal-pg.XXXXXX)
    pg_port=$(free_port)
    pg_as=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$pg_dir"
        pg_as=(runuser -u postgres --)
    fi
    "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U samtal --no-sync >/dev/null
    pg_ctl_start
    pg_url="postgres://samtal@127.0.0.1:$pg_port/postgres"
}

pg_ctl_start() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
        -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null
}

pg_ctl_stop() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null
}

stop_postgres() {
    pg_ctl_stop 2>/dev/null || true
    rm -rf "$pg_dir"
}
