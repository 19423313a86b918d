#!/usr/bin/env bash
# End-to-end check of the team server: "smista serve" on loopback, and
# OpenSSH's own ssh client under tmux as an agent would run it — the inbox
# drawn, a message opened, quit — then the server still serving a second
# session, no secret in its output, and a clean stop on SIGTERM. Waits
# are bounded; exits non-zero (printing the last screen) on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

for bin in tmux ssh ssh-keygen; do
	command -v "$bin" >/dev/null || { echo "e2e-serve: $bin is not installed" >&2; exit 1; }
done

tmp=$(mktemp -d)
sess="smista-e2e-serve-$$"
# A tmux server of this script's own (-L), kept alive between its
# sessions by one idle session: killing a script's only session makes the
# server exit, and a new-session right after it can reach the exiting
# server ("server exited unexpectedly").
sock="$sess"
tmux() { command tmux -L "$sock" "$@"; }
srv_pid=""
cleanup() {
	tmux kill-server 2>/dev/null || true
	if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then kill "$srv_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
tmux new-session -d -s keep "sleep 3600"

go build -o "$tmp/smista" .
db="$tmp/serve.db"
"$tmp/smista" --db "$db" import mail/testdata/*.eml >/dev/null 2>&1 || true
go run ./ui/internal/seeddb "$db"

ssh-keygen -q -t ed25519 -N '' -C ci-agent -f "$tmp/agent"
cat >"$tmp/config.toml" <<CONF
[serve]
listen = "127.0.0.1:0"
host_key = "$tmp/host_ed25519"

[[serve.agent]]
name = "giulia"
keys = ["$(cat "$tmp/agent.pub")"]
CONF

"$tmp/smista" --config "$tmp/config.toml" --db "$db" serve >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv_pid=$!
for _ in $(seq 1 100); do
	grep -q "listening on" "$tmp/serve.err" 2>/dev/null && break
	kill -0 "$srv_pid" 2>/dev/null || { echo "e2e-serve: smista serve exited:" >&2; cat "$tmp/serve.err" >&2; exit 1; }
	sleep 0.1
done
grep -q "listening on" "$tmp/serve.err" || { echo "e2e-serve: smista serve never listened" >&2; cat "$tmp/serve.err" >&2; exit 1; }
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/serve.err" | head -1)
mode=$(stat -c %a "$tmp/host_ed25519")
[ "$mode" = 600 ] || { echo "e2e-serve: host key mode $mode, want 600" >&2; exit 1; }

ssh_cmd="ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o PasswordAuthentication=no -o LogLevel=ERROR -i $tmp/agent -p $port -tt giulia@127.0.0.1"

screen() { tmux capture-pane -p -t "$sess"; }
wait_for() {
	local i
	for i in $(seq 1 100); do
		if screen | grep -qF -- "$1"; then
			return 0
		fi
		sleep 0.1
	done
	echo "e2e-serve: timed out waiting for: $1" >&2
	echo "---- last screen ----" >&2
	screen >&2
	echo "---- server stderr ----" >&2
	cat "$tmp/serve.err" >&2
	exit 1
}
keys() { tmux send-keys -t "$sess" "$@"; }

tmux new-session -d -s "$sess" -x 100 -y 30 "TERM=xterm-256color $ssh_cmd; echo E2E-EXIT=\$?; sleep 30"
wait_for "1 Inbox"
wait_for "Order #5531"
keys Enter                        # open the first message
wait_for "Msg-ID:"
keys h
wait_for "sort date"
keys q
wait_for "E2E-EXIT=0"
echo "e2e-serve: session one ok"

# The server is still serving: a second session draws the inbox.
tmux kill-session -t "$sess"
tmux new-session -d -s "$sess" -x 100 -y 30 "TERM=xterm-256color $ssh_cmd; echo E2E-EXIT=\$?; sleep 30"
wait_for "1 Inbox"
keys q
wait_for "E2E-EXIT=0"

# A key the server does not know is refused.
if ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
	-i "$tmp/host_ed25519" -p "$port" -tt giulia@127.0.0.1 true </dev/null >/dev/null 2>&1; then
	echo "e2e-serve: an unknown key got in" >&2; exit 1
fi

kill -TERM "$srv_pid"
for _ in $(seq 1 100); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$srv_pid" 2>/dev/null; then echo "e2e-serve: smista serve ignored SIGTERM" >&2; exit 1; fi
wait "$srv_pid" || { echo "e2e-serve: smista serve exited non-zero on SIGTERM" >&2; cat "$tmp/serve.err" >&2; exit 1; }
srv_pid=""
if grep -q -e "whsec_" -e "PRIVATE KEY" "$tmp/serve.out" "$tmp/serve.err"; then
	echo "e2e-serve: a secret in the server's output" >&2; exit 1
fi
echo "e2e-serve: ok"
