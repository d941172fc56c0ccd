#!/usr/bin/env bash
# Runs a local Solana node in the foreground, on 127.0.0.1, with the Spotcheck
# SBF program (target/deploy/spotcheck.so) preloaded at its id, until SIGINT or
# SIGTERM (then it stops the node and exits 0).
#
#   scripts/localnet.sh [--rpc-port N] [--ws-port N] [--node surfpool|test-validator]
#                       [--program ID=PATH]...
#
#   --rpc-port N   JSON-RPC port (default 8899; 0 = a free port)
#   --ws-port N    PubSub websocket port (default 8900, or rpc+1 for test-validator; 0 = free)
#   --node NAME    surfpool: the project's launcher (scripts/install-localnet.sh builds it)
#                  test-validator: solana-test-validator 4.2.2 from PATH
#                  default: surfpool if installed, else test-validator if on PATH
#   --program ID=PATH  an SBF program to load instead of the default
#                  AqZAGvSDPyK8LCFL7eMm8uqjLBNN3gm7qRtaq3ra3kU3=target/deploy/spotcheck.so
#                  (repeatable)
#
# stdout carries exactly these lines, the last only once every program is
# loaded and executable (never trust getHealth alone: a node answers it
# before its programs are in place):
#   JSON RPC URL: http://127.0.0.1:P
#   WebSocket PubSub URL: ws://127.0.0.1:Q
#   READY rpc=http://127.0.0.1:P ws=ws://127.0.0.1:Q
# The ports are the real ones (also when 0 was asked for). Diagnostics go to
# stderr: read it or let it through, since a full pipe would stall the node.
# Exit status: 0 after a signal, 1 when the node fails, 2 on a bad command line.
# Stop it with SIGTERM to this process (or its process group): the node and
# everything it started stop with it.
#
#   SPOTCHECK_LOCALNET_BIN  launcher binary to run instead of the installed one
#                           (the launcher's own tests pass the one cargo just built)
#   SPOTCHECK_LOCALNET_TIMEOUT  seconds solana-test-validator may take to be ready (default 120)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "localnet: $*" >&2; }
help_text() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
usage() { help_text >&2; exit 2; }

spotcheck_id="AqZAGvSDPyK8LCFL7eMm8uqjLBNN3gm7qRtaq3ra3kU3"
rpc_port=8899
ws_port=""
node=""
programs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rpc-port) [ $# -ge 2 ] || usage; rpc_port="$2"; shift 2 ;;
        --ws-port) [ $# -ge 2 ] || usage; ws_port="$2"; shift 2 ;;
        --node) [ $# -ge 2 ] || usage; node="$2"; shift 2 ;;
        --program) [ $# -ge 2 ] || usage; programs+=("$2"); shift 2 ;;
        --rpc-port=*) rpc_port="${1#*=}"; shift ;;
        --ws-port=*) ws_port="${1#*=}"; shift ;;
        --node=*) node="${1#*=}"; shift ;;
        --program=*) programs+=("${1#*=}"); shift ;;
        -h|--help) help_text; exit 0 ;;
        *) say "unknown argument '$1'"; usage ;;
    esac
done
for port in "$rpc_port" ${ws_port:+"$ws_port"}; do
    if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -gt 65535 ]; then
        say "'$port' is not a port number (0-65535)"
        exit 2
    fi
done
[ ${#programs[@]} -gt 0 ] || programs=("$spotcheck_id=$root/target/deploy/spotcheck.so")

surfpool_bin() {
    if [ -n "${SPOTCHECK_LOCALNET_BIN:-}" ]; then
        [ -x "$SPOTCHECK_LOCALNET_BIN" ] || { say "SPOTCHECK_LOCALNET_BIN=$SPOTCHECK_LOCALNET_BIN is not an executable"; return 1; }
        echo "$SPOTCHECK_LOCALNET_BIN"
    else
        "$root/scripts/install-localnet.sh" --check
    fi
}

if [ -z "$node" ]; then
    if bin="$(surfpool_bin 2>/dev/null)"; then
        node=surfpool
    elif command -v solana-test-validator >/dev/null; then
        node=test-validator
        say "the Surfpool launcher is not built; using solana-test-validator from PATH"
    else
        say "no local node is installed. Either build the project's Surfpool launcher:"
        say "    scripts/install-localnet.sh     (once per machine, 20-35 min on 2 cores)"
        say "or install solana-test-validator 4.2.2 (~60 min on 2 cores):"
        say "    cargo install agave-validator --version 4.2.2 --locked --bin solana-test-validator"
        exit 1
    fi
fi

case "$node" in
surfpool)
    bin="$(surfpool_bin)" || exit 1
    args=(--rpc-port "$rpc_port" --ws-port "${ws_port:-8900}")
    for program in "${programs[@]}"; do args+=(--program "$program"); done
    # exec: the launcher becomes this process, so a signal to this pid or its
    # group reaches the node directly, and nothing is left behind; it prints
    # the URLs and READY itself, once its programs are loaded.
    exec "$bin" "${args[@]}"
    ;;
test-validator) ;;
*) say "--node must be surfpool or test-validator, not '$node'"; exit 2 ;;
esac

# --- solana-test-validator -------------------------------------------------
# It serves the websocket on rpc-port + 1, always; a fresh temporary ledger
# per run keeps runs independent. Not run by CI (it takes an hour to build).
command -v solana-test-validator >/dev/null || {
    say "solana-test-validator is not on PATH; install it (~60 min on 2 cores) with:"
    say "    cargo install agave-validator --version 4.2.2 --locked --bin solana-test-validator"
    exit 1
}
command -v curl >/dev/null || { say "curl not found (Debian: apt-get install curl)"; exit 1; }

validator_args=()
for program in "${programs[@]}"; do
    id="${program%%=*}"
    path="${program#*=}"
    if [ "$id" = "$program" ] || [ -z "$path" ]; then
        say "--program '$program' should be ID=PATH"
        exit 2
    fi
    if [ ! -f "$path" ]; then
        say "program file $path does not exist: build the Spotcheck program with ./sbf-build/build.sh"
        exit 1
    fi
    validator_args+=(--bpf-program "$id" "$path")
done

# Free ports, chosen by binding port 0: a pair (rpc, rpc + 1) when rpc is 0,
# and the faucet's (solana-test-validator's default 9900 would collide between
# two nodes). python3 is already required by setup (the model's venv).
free_ports() {
    python3 - "$@" <<'PY'
import socket, sys
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return s
    except OSError:
        s.close()
        return None
want_pair = sys.argv[1] == "pair"
held = []
for _ in range(200):
    s = free(0)
    port = s.getsockname()[1]
    held.append(s)
    if not want_pair:
        print(port); break
    t = free(port + 1) if port < 65535 else None
    if t:
        held.append(t); print(port); break
else:
    sys.exit("no free port pair found")
PY
}

if [ "$rpc_port" = 0 ]; then
    rpc_port="$(free_ports pair)"
fi
expected_ws=$((rpc_port + 1))
if [ -n "$ws_port" ] && [ "$ws_port" != 0 ] && [ "$ws_port" != "$expected_ws" ]; then
    say "solana-test-validator serves the websocket on --rpc-port + 1 ($expected_ws), not $ws_port:"
    say "omit --ws-port, pass --ws-port $expected_ws, or use --node surfpool"
    exit 2
fi
ws_port="$expected_ws"
faucet_port="$(free_ports one)"
for port in "$rpc_port" "$ws_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        say "port $port on 127.0.0.1 is already in use (another node still running?): stop it, or choose another --rpc-port (0 picks a free one)"
        exit 1
    fi
done

ledger="$(mktemp -d "${TMPDIR:-/tmp}/spotcheck-localnet-ledger.XXXXXX")"
validator_pid=""
stop() {
    trap - INT TERM EXIT
    if [ -n "$validator_pid" ] && kill -0 "$validator_pid" 2>/dev/null; then
        kill -TERM "$validator_pid" 2>/dev/null || true
        # It normally exits within a second or two; never leave it running.
        for _ in $(seq 1 100); do kill -0 "$validator_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$validator_pid" 2>/dev/null || true
        wait "$validator_pid" 2>/dev/null || true
    fi
    rm -rf "$ledger"
}
on_signal() { say "$1: stopping solana-test-validator"; stop; exit 0; }
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM
trap stop EXIT

say "starting solana-test-validator (ledger $ledger, log $ledger/validator.log)"
# --quiet: no dashboard; its log goes to the ledger directory. Its stdout
# (error messages included) goes to our stderr, so our stdout stays the
# three lines above.
solana-test-validator --quiet --reset --ledger "$ledger" --bind-address 127.0.0.1 \
    --rpc-port "$rpc_port" --faucet-port "$faucet_port" "${validator_args[@]}" >&2 &
validator_pid=$!

rpc_url="http://127.0.0.1:$rpc_port"
rpc() {
    curl -s --max-time 2 -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$rpc_url" || true
}
is_ready() {
    rpc getHealth '[]' | grep -q '"result":"ok"' || return 1
    for program in "${programs[@]}"; do
        rpc getAccountInfo "[\"${program%%=*}\",{\"encoding\":\"base64\",\"commitment\":\"confirmed\"}]" |
            grep -q '"executable":true' || return 1
    done
}
timeout_s="${SPOTCHECK_LOCALNET_TIMEOUT:-120}"
started=$SECONDS
until is_ready; do
    if ! kill -0 "$validator_pid" 2>/dev/null; then
        status=0; wait "$validator_pid" || status=$?
        validator_pid=""
        say "solana-test-validator exited ($status) before it was ready; the end of its log:"
        tail -n 20 "$ledger"/validator*.log >&2 2>/dev/null || true
        exit 1
    fi
    if [ $((SECONDS - started)) -ge "$timeout_s" ]; then
        say "solana-test-validator was not ready (healthy, programs executable) after ${timeout_s}s"
        exit 1
    fi
    sleep 0.2
done
echo "JSON RPC URL: $rpc_url"
echo "WebSocket PubSub URL: ws://127.0.0.1:$ws_port"
echo "READY rpc=$rpc_url ws=ws://127.0.0.1:$ws_port"
say "ready after $((SECONDS - started)) s"

# `wait` returns early when a trapped signal arrives; the trap then stops it.
status=0
wait "$validator_pid" || status=$?
validator_pid=""
say "solana-test-validator exited on its own ($status); the end of its log:"
tail -n 20 "$ledger"/validator*.log >&2 2>/dev/null || true
exit 1
