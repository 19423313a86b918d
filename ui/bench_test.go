package ui_test

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"smista/db"
	"smista/ui"
)

// benchMessages is the store size the UI targets are stated for.
const benchMessages = 100_000

// bulkDB is a store holding the fixture plus benchMessages generated rows.
func bulkDB(b *testing.B) *db.DB {
	b.Helper()
	d := seededDB(b)
	seedBulk(b, d, benchMessages-9)
	if n, err := d.CountMessages(context.Background()); err != nil || n != benchMessages {
		b.Fatalf("store holds %d messages (%v), want %d", n, err, benchMessages)
	}
	return d
}

// BenchmarkInboxFirstFrame measures start-up to the first rendered inbox
// frame on a 100,000-message store: model, count, first page, render.
func BenchmarkInboxFirstFrame(b *testing.B) {
	d := bulkDB(b)
	for b.Loop() {
		m := ui.New(testDeps(d)).WithLocation(time.UTC)
		settle(b, m, m.Init())
		_, cmd := m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		settle(b, m, cmd)
		if v := m.View(); !strings.Contains(v.Content, "of 100,000") {
			b.Fatalf("inbox not rendered:\n%s", v.Content)
		}
	}
}

// BenchmarkInboxKeyJ measures one j keypress: Update and the new View. The
// prefetch commands a move may return run outside the timer, as they run
// off the UI goroutine in the program.
func BenchmarkInboxKeyJ(b *testing.B) {
	d := bulkDB(b)
	m := newModel(b, testDeps(d), 120, 40)
	j, top := keyMsg("j"), keyMsg("g")
	presses := 0
	for b.Loop() {
		_, cmd := m.Update(j)
		_ = m.View()
		if cmd != nil {
			b.StopTimer()
			settle(b, m, cmd)
			b.StartTimer()
		}
		if presses++; presses%(benchMessages-1) == 0 { // at the bottom: start over
			b.StopTimer()
			_, cmd := m.Update(top)
			settle(b, m, cmd)
			b.StartTimer()
		}
	}
}

// BenchmarkInboxMemory reports the heap in use and the process's resident
// set after opening the inbox on a 100,000-message store and paging
// through 2,000 rows.
func BenchmarkInboxMemory(b *testing.B) {
	d := bulkDB(b)
	for b.Loop() {
		m := newModel(b, testDeps(d), 120, 40)
		for range 2000 {
			_, cmd := m.Update(keyMsg("j"))
			settle(b, m, cmd)
		}
		_ = m.View()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(rssMB(b), "rss-MB")
		runtime.KeepAlive(m)
	}
}

// rssMB reads VmRSS from /proc/self/status (Linux), 0 elsewhere.
func rssMB(tb testing.TB) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				tb.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkInboxQuery measures one page fetch (count + 120 rows, what a
// filter change or a jump costs, off the UI goroutine) on 100,000 messages.
func BenchmarkInboxQuery(b *testing.B) {
	d := bulkDB(b)
	ctx := context.Background()
	tests := map[string]struct {
		f      db.InboxFilter
		offset int
	}{
		"date first page":       {},
		"date deep page":        {offset: 99_800},
		"confidence first page": {f: db.InboxFilter{ByConfidence: true}},
		"intent and flag":       {f: db.InboxFilter{Intent: "support", Flag: "payments"}},
		"search":                {f: db.InboxFilter{Search: "number 4242"}},
	}
	for name, tc := range tests {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.InboxCount(ctx, tc.f); err != nil {
					b.Fatal(err)
				}
				if _, err := d.Inbox(ctx, tc.f, db.Page{Offset: tc.offset, Limit: 120}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
