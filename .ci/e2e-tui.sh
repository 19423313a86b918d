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
# A tmux server of this script's own (-L), kept alive between its
# sessions by one idle session: killing a script's only session makes the
# server exit, and a new-session right after it can reach the exiting
# server ("server exited unexpectedly").
sock="$sess"
tmux() { command tmux -L "$sock" "$@"; }
serve_pid=""
cleanup() {
	tmux kill-server 2>/dev/null || true
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
tmux new-session -d -s keep "sleep 3600"

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

# wait_gone TEXT: poll the pane for up to 10 s until TEXT is not on it.
wait_gone() {
	local i
	for i in $(seq 1 100); do
		if ! screen | grep -qF -- "$1"; then
			return 0
		fi
		sleep 0.1
	done
	echo "e2e-tui: still on the screen: $1" >&2
	screen >&2
	exit 1
}

wait_for "1 Inbox"
wait_for "Order #5531"
wait_for "auto-disabled"          # the banner for the auto-disabled endpoint

keys Enter                        # open the first message
wait_for "Msg-ID:"
wait_for "esc/h back"

keys h                            # back to the inbox
wait_for "sort date"

# Search a word found only in a body ("invalid token", in the login
# email's text): the results come while typing (no enter), the query is
# in the header; then the word inside the open email.
keys / t o k e n
wait_for "search token"
wait_for "Cannot log in since"
wait_gone "Order #5531"
keys Enter Enter                  # keep the search, open its email
wait_for "Msg-ID:"
keys / i n v a l i d Enter
wait_for "match 1 of 1"
keys h c                          # back, and the search cleared
wait_for "Order #5531"

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
cat >"$tmp/visual.sh" <<'SH'
#!/bin/sh
# The person's edit: one line more at the end of the draft.
printf '\ne2e reply line, written in VISUAL.\n' >>"$1"
SH
chmod +x "$tmp/visual.sh"
tmux new-session -d -s "$sess" -x 100 -y 30 \
	"TERM=xterm-256color VISUAL='$tmp/visual.sh' EDITOR=false $tmp/smista demo; echo E2E-EXIT=\$?; sleep 30"
wait_for "1 Inbox"
wait_for "of 40"                  # the whole demo mailbox synced over IMAP
wait_for "tkt sent"               # triaged, and a ticket.suggested delivered
keys Enter                        # open the newest message
wait_for "Msg-ID:"
wait_for "Decision:"              # the decision with its reasons
keys h 4                          # back, then the delivery log
wait_for "Delivery log"
wait_for "delivered"
# A reply written in $VISUAL (a script standing in for the person: it
# adds a line under the headers and the draft it was given), approved,
# and sent over SMTP to the demo's sink.
keys 1 Enter                      # the newest email again
wait_for "Msg-ID:"
keys r
wait_for "saved · a approves"     # the editor changed the file: saved
wait_for "e2e reply line"         # the drafts screen shows the new text
keys a
wait_for "[y/n]"
keys y
wait_for "— sent by human:"       # the SMTP server accepted it
keys q
wait_for "E2E-EXIT=0"
echo "e2e-tui: demo ok (and a reply written in \$VISUAL sent)"

# Part three: "smista init" on a terminal (the Bubble Tea form), answered
# key by key, against local IMAP and SMTP servers and a receiver; then
# "smista doctor" on what it wrote.
tmux kill-session -t "$sess"
go build -o "$tmp/mailserve" ./mail/internal/mailserve
"$tmp/mailserve" -password e2e-secret >"$tmp/serve.env" 2>"$tmp/serve.log" &
serve_pid=$!
for i in $(seq 1 100); do
	grep -q '^HOOK=' "$tmp/serve.env" 2>/dev/null && break
	sleep 0.1
done
imap=$(sed -n 's/^IMAP=//p' "$tmp/serve.env")
smtp=$(sed -n 's/^SMTP=//p' "$tmp/serve.env")
hook=$(sed -n 's/^HOOK=//p' "$tmp/serve.env")
[ -n "$hook" ] || { echo "e2e-tui: mailserve did not start" >&2; cat "$tmp/serve.log" >&2; exit 1; }
mkdir -p "$tmp/home"
initcmd="$tmp/smista --db $tmp/init.db --config $tmp/home/config.toml"
sess="smista-e2e-init-$$"
tmux new-session -d -s "$sess" -x 100 -y 30 \
	"TERM=xterm-256color E2E_PW=e2e-secret XDG_DATA_HOME=$tmp/home HOME=$tmp/home $initcmd init; echo E2E-EXIT=\$?; sleep 30"
wait_for "Your email address"
keys "agent@e2e.example" Enter
wait_for "(guessed)"                # the provider, recognised (or guessed) from the domain
wait_for "A short name"
keys Enter
wait_for "Your name, as replies"
keys "E2E Desk" Enter
wait_for "IMAP server (host:port"
keys C-u "$imap insecure" Enter
wait_for "SMTP server (host:port"
keys C-u "$smtp insecure" Enter
wait_for "Login name"
keys Enter
wait_for "Sign in with password"
keys Enter
wait_for "Password source"
keys '$E2E_PW' Enter
wait_for "Triage with"
keys Enter
wait_for "Webhook endpoint URL"
keys "$hook" Enter
wait_for "(yes/no)"
keys Enter
wait_for "delivered: HTTP 200"       # the test event reached the receiver
wait_for "E2E-EXIT=0"
grep -q "event 1 received" "$tmp/serve.log" || { echo "e2e-tui: the receiver saw no event" >&2; exit 1; }
if grep -q "e2e-secret" "$tmp/home/config.toml"; then
	echo "e2e-tui: the password went into the config" >&2; exit 1
fi
E2E_PW=e2e-secret XDG_DATA_HOME=$tmp/home HOME=$tmp/home $initcmd doctor >"$tmp/doctor.txt" || {
	echo "e2e-tui: smista doctor failed on the config init wrote:" >&2; cat "$tmp/doctor.txt" >&2; exit 1; }
E2E_PW=e2e-secret XDG_DATA_HOME=$tmp/home HOME=$tmp/home $initcmd sync >"$tmp/sync.txt" 2>&1
grep -q "3 new" "$tmp/sync.txt" || { echo "e2e-tui: sync after init:" >&2; cat "$tmp/sync.txt" >&2; exit 1; }
echo "e2e-tui: init ok"
echo "e2e-tui: ok"
