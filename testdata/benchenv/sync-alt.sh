#!/bin/sh
# sync-alt.sh DIR RUNS FLAGS SMISTA...
#
# sync-vs-mbsync.sh for several smista binaries (a branch's and main's):
# each of RUNS rounds runs mbsync, then every SMISTA given, each into a
# fresh directory made 1.5 s before the round (mbsync sleeps a second on
# a Maildir modified within the last second), on DIR's filesystem. Prints
# one line per run: who, wall seconds, user and system CPU seconds, peak
# resident set in KiB (/usr/bin/time), the load average. FLAGS go to
# smista sync ("triage" for none: the sync then triages).
set -eu
DIR=$1
RUNS=$2
FLAGS=$3
shift 3
[ "$FLAGS" = triage ] && FLAGS=
export SMISTA_BENCH_PASSWORD=secret
RUN=$DIR/runs
rm -rf "$RUN" && mkdir -p "$RUN"
i=0
while [ $i -lt "$RUNS" ]; do
	mkdir -p "$RUN/m$i/md"
	sed "s#@MAILDIR@#$RUN/m$i/md#g" "$DIR/mbsyncrc.in" >"$RUN/m$i/rc"
	for b in "$@"; do mkdir -p "$RUN/s$i-$(basename "$b")"; done
	sleep 1.5
	/usr/bin/time -f "%e %U %S %M" -o "$RUN/t" mbsync -c "$RUN/m$i/rc" -q c
	echo "mbsync $(cat "$RUN/t") load $(cut -d' ' -f1 /proc/loadavg)"
	for b in "$@"; do
		/usr/bin/time -f "%e %U %S %M" -o "$RUN/t" "$b" --config "$DIR/smista.toml" \
			--db "$RUN/s$i-$(basename "$b")/s.db" sync $FLAGS >/dev/null 2>&1
		echo "$(basename "$b") $(cat "$RUN/t") load $(cut -d' ' -f1 /proc/loadavg)"
	done
	rm -rf "$RUN/m$i" "$RUN"/s$i-*
	i=$((i + 1))
done
