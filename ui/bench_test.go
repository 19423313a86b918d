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

	"smista/app/apptest"
	"smista/db"
	"smista/ui"
	"smista/ui/internal/fixture"
)

// benchMessages is the store size the UI targets are stated for.
const benchMessages = 100_000

// bulkDB is a store of benchMessages real mails: the SpamAssassin corpus
// repeated with rewritten Message-IDs, triaged by the offline classifier
// (built once, then copied; skipped without SMISTA_CORPUS). Real mail, not
// generated rows: its subjects, senders and intents are what the queries
// meet in use.
func bulkDB(b *testing.B) *db.DB {
	b.Helper()
	d := apptest.CorpusStore(b, benchMessages)
	d.Now = fixture.Now
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

// BenchmarkInboxQuery measures what a filter or sort change costs on
// 100,000 real mails, off the UI goroutine: the first page (120 rows) and
// the count the header shows, each alone ("page", "count"), for the date
// order, the confidence sort, every filter the inbox offers and a subject
// search; and a page deep in the list, by offset and by key.
func BenchmarkInboxQuery(b *testing.B) {
	d := bulkDB(b)
	ctx := context.Background()
	deep, err := d.Inbox(ctx, db.InboxFilter{}, db.Page{Offset: 99_799, Limit: 1})
	if err != nil || len(deep) != 1 {
		b.Fatalf("row 99,800: %v %v", deep, err)
	}
	deepKey := deep[0].Key()
	tests := map[string]struct {
		f db.InboxFilter
		p db.Page
	}{
		"date":                 {},
		"date/offset 99,800":   {p: db.Page{Offset: 99_800}},
		"date/after 99,800":    {p: db.Page{After: &deepKey}},
		"date/last page":       {p: db.Page{Last: true}},
		"confidence":           {f: db.InboxFilter{ByConfidence: true}},
		"intent support":       {f: db.InboxFilter{Intent: "support"}},
		"intent other":         {f: db.InboxFilter{Intent: "other"}},
		"intent spam":          {f: db.InboxFilter{Intent: "spam"}},
		"untriaged":            {f: db.InboxFilter{Intent: "untriaged"}},
		"flag payments":        {f: db.InboxFilter{Flag: "payments"}},
		"flag legal":           {f: db.InboxFilter{Flag: "legal"}},
		"flag injection":       {f: db.InboxFilter{Flag: "injection"}},
		"decision draft":       {f: db.InboxFilter{Decision: "draft"}},
		"decision suggest":     {f: db.InboxFilter{Decision: "suggest"}},
		"decision none":        {f: db.InboxFilter{Decision: "none"}},
		"intent and flag":      {f: db.InboxFilter{Intent: "spam", Flag: "payments"}},
		"search common word":   {f: db.InboxFilter{Search: "linux"}},
		"search rare word":     {f: db.InboxFilter{Search: "zzzzqx"}},
		"search by confidence": {f: db.InboxFilter{Search: "linux", ByConfidence: true}},
		// Full text (migration 0010): words in bodies, any sender.
		"body word":         {f: db.InboxFilter{Search: "razor"}},
		"body common word":  {f: db.InboxFilter{Search: "the"}},
		"body two words":    {f: db.InboxFilter{Search: "linux kernel"}},
		"body phrase":       {f: db.InboxFilter{Search: `"mailing list"`}},
		"body word, unread": {f: db.InboxFilter{Search: "razor", Unread: true}},
		"from":              {f: db.InboxFilter{From: "linux"}},
	}
	for name, tc := range tests {
		tc.p.Limit = 120
		b.Run(name+"/page", func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Inbox(ctx, tc.f, tc.p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/count", func(b *testing.B) {
			for b.Loop() {
				if _, err := d.InboxCount(ctx, tc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
