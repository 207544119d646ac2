#!/usr/bin/env bash
# A throwaway Milvus standalone server for tests, from the PyPI package `milvus` (milvus-server:
# embedded etcd, local disk storage and rocksmq in one process, no Docker).
#   bash scripts/milvus_server.sh start DATA_DIR PORT   # background; ready when this returns
#   bash scripts/milvus_server.sh stop DATA_DIR
# Then: COUNSEL_SEARCH_MILVUS_URI=http://127.0.0.1:PORT
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
die() { echo "milvus_server.sh: $*" >&2; exit 1; }

start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # milvus-server silently moves to the next free port when one is taken, so a busy PORT
    # would leave the caller talking to some other server: refuse it instead.
    "$PY" -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' \
        "$port" 2>/dev/null || die "port $port is in use"
    # Each component gets a port after PORT (not the fixed defaults), so that two servers can
    # run side by side. Components advertise 127.0.0.1 to each other rather than the machine's
    # first address. (Milvus 2.3 binds its gRPC ports on all interfaces whatever the config;
    # only etcd listens on loopback alone.)
    local args=(--data "$dir" --proxy-port "$port" --proxy-internal-port $((port + 1))
        --etcd-port $((port + 2)) --root-coord-port $((port + 3)) --query-coord-port $((port + 4))
        --query-node-port $((port + 5)) --index-coord-port $((port + 6))
        --index-node-port $((port + 7)) --data-coord-port $((port + 8))
        --data-node-port $((port + 9)))
    local role
    for role in rootCoord proxy queryCoord queryNode indexNode dataCoord dataNode; do
        args+=(--extra-config "$role.ip=127.0.0.1")
    done
    # The embedded etcd takes its ports from its own config file, named by this variable
    # (Milvus reads any config key from the environment); without it: 2379 and 2380.
    local etcd=http://127.0.0.1:$((port + 2)) peer=http://127.0.0.1:$((port + 10))
    printf '%s\n' "name: default" "listen-client-urls: $etcd" "advertise-client-urls: $etcd" \
        "listen-peer-urls: $peer" "initial-advertise-peer-urls: $peer" \
        "initial-cluster: default=$peer" >"$dir/etcd.yaml"
    export ETCD_CONFIG_PATH=$dir/etcd.yaml
    # setsid: the server outlives this script and a Ctrl-C in the caller's terminal.
    setsid "$ROOT/.venv/bin/milvus-server" "${args[@]}" >"$dir/server.out" 2>&1 </dev/null &
    echo $! >"$dir/milvus.pid"
    # Ready means a client can connect and list collections, not merely that the port is open.
    "$PY" - "$port" "$!" <<'EOF' && return 0
import logging, os, sys, time
from pymilvus import MilvusClient
logging.disable(logging.ERROR)  # pymilvus logs each refused connection while the server starts
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if not os.path.exists(f"/proc/{pid}"):
        sys.exit(1)  # milvus-server has exited
    try:
        MilvusClient(f"http://127.0.0.1:{port}", timeout=2, alias="probe").list_collections()
        sys.exit(0)
    except Exception:
        time.sleep(1)
sys.exit(1)
EOF
    stop "$dir"  # leave nothing running behind a failed start
    die "not ready within 120 s, or exited (see $dir/server.out and $dir/logs)"
}

stop() {
    local dir=$1 pid child
    [[ -f $dir/milvus.pid ]] || die "no $dir/milvus.pid"
    pid=$(<"$dir/milvus.pid")
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/milvus.pid"; return 0; }
    # milvus-server answers SIGINT by giving the milvus process 1 s before SIGKILL; so SIGTERM
    # that process first (it stops gracefully, flushing etcd and rocksmq), then the wrapper.
    child=$(pgrep -P "$pid" -x milvus || true)
    if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi
    SECONDS=0
    # Until it exits: a zombie (state Z, not yet reaped by the wrapper) has exited.
    while [[ -n $child && $(ps -o stat= -p "$child" || true) == [^Z]* ]] && ((SECONDS < 25)); do
        sleep 0.1
    done
    kill -INT "$pid" 2>/dev/null || true
    while ((SECONDS < 30)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/milvus.pid"; return 0; }
        sleep 0.1
    done
    echo "milvus_server.sh: $pid still running after 30 s; killing it" >&2
    kill -KILL "$pid" ${child:+"$child"} 2>/dev/null || true
    rm -f "$dir/milvus.pid"
}

case "${1:-}" in
    start) [[ $# -eq 3 ]] || die "usage: start DATA_DIR PORT"; start "$2" "$3" ;;
    stop) [[ $# -eq 2 ]] || die "usage: stop DATA_DIR"; stop "$2" ;;
    *) die "usage: $0 start DATA_DIR PORT | stop DATA_DIR" ;;
esac
