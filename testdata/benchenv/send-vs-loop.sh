#!/bin/sh
# send-vs-loop.sh DIR SMISTA BENCHENV [ROUNDS]
#
# The sender's whole-process benchmark: smista send --once (the binary
# SMISTA) delivering DIR/outbox-base.db's 20,000 deliveries (make it with
# `benchenv outbox -events 2500 -endpoints 8 -url http://127.0.0.1:8788
# DIR/outbox-base.db`), the Go keep-alive loop of 8 workers (benchenv loop)
# and wrk (-t2 -c8, 5 s), alternated ROUNDS times (default 3) against the
# receiver `benchenv receiver -addr 127.0.0.1:8788` started beforehand in
# another process. Prints each contender's time, CPU and peak RSS
# (/usr/bin/time) or rate, and the load average before each round.
set -eu
DIR=$1
SMISTA=$2
BENCHENV=$3
ROUNDS=${4:-3}
URL=http://127.0.0.1:8788/e1
cat >"$DIR/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"event":"ticket.suggested","email_id":"0000000000000001","thread_id":"0000000000000001","from":"cliente@azienda.example","subject":"Non funziona il login dal mattino","summary":"Problema di accesso segnalato dal cliente","priority":"high","confidence":0.88,"category":"support","raw_email_url":"mid:0000000000000001@azienda.example"}'
wrk.headers["Content-Type"] = "application/json"
LUA
i=0
while [ $i -lt "$ROUNDS" ]; do
	uptime
	cp "$DIR/outbox-base.db" "$DIR/r.db"
	rm -f "$DIR/r.db-wal" "$DIR/r.db-shm"
	sleep 0.5
	/usr/bin/time -f "smista send --once: %e s wall, %U s user, %S s sys, %M KiB" \
		"$SMISTA" --db "$DIR/r.db" send --once 2>&1 >/dev/null | tail -1
	/usr/bin/time -f "loop: %U s user, %S s sys, %M KiB" "$BENCHENV" loop -n 20000 -workers 8 "$URL" 2>&1
	wrk -t2 -c8 -d5s -s "$DIR/post.lua" "$URL" | grep -E "Requests/sec"
	i=$((i + 1))
done
