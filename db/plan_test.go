package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"smista/webhook"
)

// TestQueryPlans pins the index each outbox statement reads: none of them
// may scan the deliveries or attempts tables, whose size grows with every
// event, and the sender's reads must use the partial index of the rows not
// delivered (SQLite uses a partial index only when it can prove the query
// implies its condition, which an edit of a query can silently break).
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := func(k int) []any { return make([]any, k) }
	outbox := map[string]bool{"deliveries": true, "attempts": true, "d": true, "dl": true, "a": true}
	attemptLog, attemptLogArgs := AttemptFilter{Status: "retrying", EndpointID: "ep_x", Kind: "webhook"}.attemptsQuery()
	attempts, attemptsArgs := AttemptFilter{DeliveryID: "dlv_x"}.attemptsQuery()
	from, where, uiArgs := deliveryWhere(DeliveryFilter{Status: "paused"})
	logFrom, logWhere, logArgs := deliveryWhere(DeliveryFilter{Status: "dead", Kind: "webhook"})
	for _, c := range []struct {
		name string
		sql  string
		args []any
		want string // a line of the plan contains it
	}{
		{"queues", queuesSQL(1), n(1), "USING COVERING INDEX deliveries_open (queue>?)"},
		{"retrying", retryingSQL(1), n(4), "SEARCH d USING INDEX deliveries_open (queue=? AND status=?)"},
		{"pending", pendingAfterSQL(1), n(5), "SEARCH d USING INDEX deliveries_open (queue=? AND status=? AND seq>?)"},
		{"round attempts", retryingSQL(1), n(4), "SEARCH a USING INDEX sqlite_autoindex_attempts_1 (delivery_seq=?)"},
		{"insert attempts", insertAttemptsSQL[2], n(16 * attemptArgs), "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)"},
		{"insert attempt", insertAttemptsSQL[len(recordChunks)-1], n(attemptArgs), "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)"},
		{"update deliveries", updateDeliveriesSQL[2], n(1 + 16*deliveryArgs), "SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)"},
		{"update delivery", updateDeliveriesSQL[len(recordChunks)-1], n(1 + deliveryArgs), "SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)"},
		{"mark delivered", markDeliveredSQL[2], n(2 + 16), "SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)"},
		{"mark one delivered", markDeliveredSQL[len(recordChunks)-1], n(3), "SEARCH deliveries USING INTEGER PRIMARY KEY (rowid=?)"},
		{"events", eventsSQL[2], n(16), "SEARCH events USING INDEX sqlite_autoindex_events_1 (id=?)"},
		{"recent failures", recentFailuresSQL, n(2), "USING INDEX attempts_failed (started_at>?)"},
		{"pause", pauseQueueSQL, n(2), "USING INDEX deliveries_open (queue=? AND status=?)"},
		{"count paused", countPausedSQL, n(1), "USING INDEX deliveries_open (queue=? AND status=?)"},
		{"resume", resumeQueueSQL, n(2), "USING INDEX deliveries_open (queue=? AND status=?)"},
		{"count waiting", countWaitingSQL, n(1), "USING INDEX deliveries_open (queue=? AND status=?)"},
		{"detach", detachQueueSQL, n(2), "USING INDEX deliveries_queue (queue=?)"},
		{"endpoints", endpointsSQL + ` ORDER BY ep.created_at, ep.id`, nil, "USING COVERING INDEX deliveries_open (queue=? AND status=?)"},
		{"endpoint", endpointsSQL + ` WHERE ep.id = ?`, n(1), "USING COVERING INDEX deliveries_open (queue=? AND status=?)"},
		{"attempts of a delivery", attempts, attemptsArgs, "SEARCH a USING INDEX sqlite_autoindex_attempts_1 (delivery_seq=?)"},
		{"deliveries by status", deliveriesSQL(from, where), append(uiArgs, 10, 0), "USING INDEX deliveries_open"},
		{"webhook deliveries by status", deliveriesSQL(logFrom, logWhere), append(logArgs, 10, 0), "USING INDEX deliveries_open"},
		{"attempts by status", attemptLog, attemptLogArgs, "USING INDEX deliveries_open (queue=? AND status=?)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := d.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+c.sql, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, line := range plan {
				found = found || strings.Contains(line, c.want)
				// "SCAN x" alone reads a whole table ("SCAN x USING ...
				// INDEX" reads an index, here only partial ones); the
				// endpoints table is small.
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "SCAN" && outbox[f[1]] && !strings.Contains(line, "INDEX") {
					t.Errorf("full scan %q", line)
				}
			}
			if !found {
				t.Errorf("no plan line contains %q", c.want)
			}
			if t.Failed() {
				t.Logf("plan:\n  %s", strings.Join(plan, "\n  "))
			}
		})
	}
}

// TestEventCacheBounded fills the event cache past two generations: the
// most recent events stay, the oldest are gone, and the cache never holds
// more than two generations.
func TestEventCacheBounded(t *testing.T) {
	c := newStmtCache(nil)
	total := 2*eventCacheSize + 10
	for i := range total {
		c.addEvent(fmt.Sprint(i), eventInfo{typ: fmt.Sprint("t", i)})
	}
	if ev, ok := c.event(fmt.Sprint(total - 1)); !ok || ev.typ != fmt.Sprint("t", total-1) {
		t.Errorf("latest event: %+v, %v", ev, ok)
	}
	if ev, ok := c.event(fmt.Sprint(eventCacheSize + 5)); !ok || ev.typ != fmt.Sprint("t", eventCacheSize+5) {
		t.Errorf("event of the previous generation: %+v, %v", ev, ok)
	}
	if _, ok := c.event("0"); ok {
		t.Error("the oldest event is still cached")
	}
	if n := len(c.evCur) + len(c.evOld); n > 2*eventCacheSize {
		t.Errorf("%d events cached, bound %d", n, 2*eventCacheSize)
	}
	var nilCache *stmtCache
	nilCache.addEvent("x", eventInfo{})
	if _, ok := nilCache.event("x"); ok {
		t.Error("a nil cache hit")
	}
}

// TestUniqueDeliveries keeps the first outcome of each delivery, in
// order, and returns the batch itself (no copy) when there is no
// duplicate.
func TestUniqueDeliveries(t *testing.T) {
	mk := func(seqs ...int64) []webhook.Outcome {
		var os []webhook.Outcome
		for i, s := range seqs {
			os = append(os, webhook.Outcome{Delivery: webhook.Delivery{Seq: s}, LastError: fmt.Sprint(i)})
		}
		return os
	}
	in := mk(1, 2, 3)
	if out := uniqueDeliveries(in); len(out) != 3 || &out[0] != &in[0] {
		t.Errorf("no duplicate: got %d outcomes, copied=%v", len(out), len(out) > 0 && &out[0] != &in[0])
	}
	out := uniqueDeliveries(mk(1, 2, 1, 3, 2))
	var got []string
	for _, o := range out {
		got = append(got, fmt.Sprint(o.Delivery.Seq, "/", o.LastError))
	}
	if fmt.Sprint(got) != "[1/0 2/1 3/3]" {
		t.Errorf("got %v, want [1/0 2/1 3/3]", got)
	}
}
