#!/usr/bin/env bash
# End-to-end check of the terminal UI: drives the real smista binary under
# tmux and asserts on capture-pane text. Waits are bounded; exits non-zero
# (printing the last screen) on any failure.
#
# The store is prepared with "smista import" of the MIME test mails plus the
# UI fixture (ticket events, deliveries in every state, an auto-disabled
# endpoint). SMISTA_E2E_CMD overrides the command under test (e.g. "smista
# demo" once it opens the TUI); it must show the fixture or demo inbox.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tmux >/dev/null || { echo "e2e-tui: tmux is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
sess="smista-e2e-$$"
cleanup() {
	tmux kill-session -t "$sess" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/smista" .
db="$tmp/e2e.db"
if ! "$tmp/smista" --db "$db" import mail/testdata/*.eml >"$tmp/import.log" 2>&1; then
	echo "e2e-tui: import failed (continuing with the fixture only):" >&2
	cat "$tmp/import.log" >&2
fi
go run ./ui/internal/seeddb "$db"

cmd=${SMISTA_E2E_CMD:-"$tmp/smista --db $db tui --no-send"}
tmux new-session -d -s "$sess" -x 100 -y 30 "TERM=xterm-256color $cmd; echo E2E-EXIT=\$?; sleep 30"

screen() { tmux capture-pane -p -t "$sess"; }

# wait_for TEXT: poll the pane for up to 10 s.
wait_for() {
	local i
	for i in $(seq 1 100); do
		if screen | grep -qF -- "$1"; then
			return 0
		fi
		sleep 0.1
	done
	echo "e2e-tui: timed out waiting for: $1" >&2
	echo "---- last screen ----" >&2
	screen >&2
	exit 1
}

keys() { tmux send-keys -t "$sess" "$@"; }

wait_for "1 Inbox"
wait_for "Order #5531"
wait_for "auto-disabled"          # the banner for the auto-disabled endpoint

keys Enter                        # open the first message
wait_for "Msg-ID:"
wait_for "esc/h back"

keys h                            # back to the inbox
wait_for "sort date"

keys 4                            # the delivery log
wait_for "Delivery log"
wait_for "dead"
keys j j Enter                    # the dead delivery's attempt log
wait_for "Attempt 1"
wait_for "Response body:"

keys q
wait_for "E2E-EXIT=0"
echo "e2e-tui: fixture store ok"

# Part two: the README's first command, "smista demo", on a terminal: the
# real sync → triage → webhook path feeding the TUI live.
tmux kill-session -t "$sess"
sess="smista-e2e-demo-$$"
tmux new-session -d -s "$sess" -x 100 -y 30 "TERM=xterm-256color $tmp/smista demo; echo E2E-EXIT=\$?; sleep 30"
wait_for "1 Inbox"
wait_for "of 40"                  # the whole demo mailbox synced over IMAP
wait_for "tkt sent"               # triaged, and a ticket.suggested delivered
keys Enter                        # open the newest message
wait_for "Msg-ID:"
wait_for "Decision:"              # the decision with its reasons
keys h 4                          # back, then the delivery log
wait_for "Delivery log"
wait_for "delivered"
keys q
wait_for "E2E-EXIT=0"
echo "e2e-tui: ok"
