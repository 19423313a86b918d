#!/bin/sh
# sync-vs-mbsync.sh DIR SMISTA [RUNS] [FLAGS]
#
# Times an initial IMAP sync of the mailbox that `benchenv dovecot ... DIR`
# serves, smista (the binary SMISTA, into a fresh store) and mbsync (into
# a fresh Maildir), alternated RUNS times (default 5), each run in
# directories created a second before it starts (mbsync sleeps a second on
# a Maildir modified within the last second) on DIR's filesystem (a tmpfs:
# see docs/benchmarks.md). Prints one line per run: wall seconds, user and
# system CPU seconds, peak resident set in KiB (/usr/bin/time), then the
# medians and the ratio of the medians. FLAGS go to smista sync (default
# --no-triage; "triage" for none: the sync then triages).
set -eu
DIR=$1
SMISTA=$2
RUNS=${3:-5}
FLAGS=${4:---no-triage}
[ "$FLAGS" = triage ] && FLAGS=
export SMISTA_BENCH_PASSWORD=secret
RUN=$DIR/runs
OUT=$DIR/times
rm -rf "$RUN" && mkdir -p "$RUN"
: >"$OUT.smista"
: >"$OUT.mbsync"
i=0
while [ $i -lt "$RUNS" ]; do
	mkdir -p "$RUN/m$i/md" "$RUN/s$i"
	sed "s#@MAILDIR@#$RUN/m$i/md#g" "$DIR/mbsyncrc.in" >"$RUN/m$i/rc"
	sleep 1.5
	/usr/bin/time -f "%e %U %S %M" -a -o "$OUT.mbsync" mbsync -c "$RUN/m$i/rc" -q c
	/usr/bin/time -f "%e %U %S %M" -a -o "$OUT.smista" \
		"$SMISTA" --config "$DIR/smista.toml" --db "$RUN/s$i/s.db" sync $FLAGS >/dev/null 2>&1
	rm -rf "$RUN/m$i" "$RUN/s$i"
	i=$((i + 1))
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for who in smista mbsync; do
	echo "$who (wall s, user s, sys s, peak KiB):"
	cat "$OUT.$who"
done
s=$(cut -d' ' -f1 "$OUT.smista" | median)
m=$(cut -d' ' -f1 "$OUT.mbsync" | median)
sr=$(cut -d' ' -f4 "$OUT.smista" | median)
echo "median wall: smista $s s, mbsync $m s, ratio $(echo "$s $m" | awk '{printf "%.2f", $1/$2}'); smista peak $sr KiB"
