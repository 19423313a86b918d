package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

const benchSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var benchBody = []byte(`{"event":"ticket.suggested","email_id":"abc123","thread_id":"thr789","from":"cliente@azienda.com","subject":"Non funziona il login","summary":"Problema di accesso segnalato dal cliente","priority":"high","confidence":0.88,"category":"support","raw_email_url":"mid:abc123@example.com"}`)

// benchReceiver verifies every request with the independent library, as in
// the tests, and counts them; arrived (when set) gets each arrival time.
type benchReceiver struct {
	srv     *httptest.Server
	n       atomic.Int64
	bad     atomic.Int64
	conns   atomic.Int64 // TCP connections accepted
	arrived chan time.Time
}

func newBenchReceiver(tb testing.TB) *benchReceiver {
	tb.Helper()
	wh, err := standardwebhooks.NewWebhook(benchSecret)
	if err != nil {
		tb.Fatal(err)
	}
	rv := &benchReceiver{}
	rv.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rv.arrived != nil {
			rv.arrived <- time.Now()
		}
		body, _ := io.ReadAll(r.Body)
		if err := wh.Verify(body, r.Header); err != nil {
			rv.bad.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rv.n.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	rv.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rv.conns.Add(1)
		}
	}
	rv.srv.Start()
	tb.Cleanup(rv.srv.Close)
	return rv
}

// cpuTime is the process's CPU time so far (user and system, all threads):
// the benchmarks report it per operation, a steadier figure than the rate
// on a shared machine.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRawPOST is the physical limit: signed POSTs in a loop over
// keep-alive connections, no database.
func BenchmarkRawPOST(b *testing.B) {
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			rv := newBenchReceiver(b)
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			h, err := webhook.SignedHeaders([]string{benchSecret}, "msg_bench", time.Now(), benchBody, "bench")
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for range workers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						req, _ := http.NewRequest(http.MethodPost, rv.srv.URL, bytes.NewReader(benchBody))
						req.Header = h.Clone()
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/req")
			b.ReportMetric(float64(rv.conns.Load()), "conns")
			if rv.bad.Load() > 0 || rv.n.Load() != int64(b.N) {
				b.Fatalf("%d verified, %d rejected, want %d", rv.n.Load(), rv.bad.Load(), b.N)
			}
		})
	}
}

// benchEnqueue queues n events in one transaction (statements prepared
// once per transaction).
func benchEnqueue(tb testing.TB, d *db.DB, n int) {
	evs := make([]db.NewEvent, n)
	for i := range evs {
		evs[i] = db.NewEvent{Type: "ticket.suggested", Payload: benchBody}
	}
	if _, err := d.EnqueueEvents(context.Background(), evs...); err != nil {
		tb.Fatal(err)
	}
}

// benchEnqueueOne queues one event in its own transaction: the path of a
// triaged message.
func benchEnqueueOne(tb testing.TB, d *db.DB) {
	if _, err := d.EnqueueEvents(context.Background(), db.NewEvent{Type: "ticket.suggested", Payload: benchBody}); err != nil {
		tb.Fatal(err)
	}
}

func benchStore(b *testing.B, rv *benchReceiver, endpoints int) *db.DB {
	d := mustOpenDB(b, nil)
	for i := range endpoints {
		if _, err := d.CreateEndpoint(context.Background(), fmt.Sprintf("%s/ep%d", rv.srv.URL, i), benchSecret); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// BenchmarkSenderEndToEnd measures deliveries per second through the whole
// path: enqueue → signed POST → attempt logged by group commit, on a WAL
// file database. Each event makes one delivery per endpoint; b.N counts
// deliveries. "batch" enqueues 100 events per transaction;
// "tx-per-event" commits each event on its own, as triage does for each
// message. The "prefilled"
// variants enqueue before the timer starts: the sender alone.
func BenchmarkSenderEndToEnd(b *testing.B) {
	for _, mode := range []string{"batch", "tx-per-event", "prefilled"} {
		for _, endpoints := range []int{1, 8} {
			name := fmt.Sprintf("endpoints=%d/%s", endpoints, mode)
			b.Run(name, func(b *testing.B) { benchSender(b, endpoints, mode) })
		}
	}
}

func benchSender(b *testing.B, endpoints int, mode string) {
	rv := newBenchReceiver(b)
	d := benchStore(b, rv, endpoints)
	events := max(b.N/endpoints, 1)
	total := int64(events * endpoints)
	enqueueAll := func(s *webhook.Sender) {
		if mode == "tx-per-event" {
			for range events {
				benchEnqueueOne(b, d)
				s.Notify()
			}
			return
		}
		for left := events; left > 0; left -= 100 {
			benchEnqueue(b, d, min(left, 100))
			if s != nil {
				s.Notify()
			}
		}
	}
	prefilled := mode == "prefilled"
	if prefilled {
		enqueueAll(nil)
	}
	s := webhook.NewSender(d, webhook.Options{Guard: webhook.Guard{AllowPrivate: true}, Workers: 8})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.ResetTimer()
	cpu0 := cpuTime(b)
	go func() { done <- s.Run(ctx) }()
	go func() {
		for range s.Events() {
		}
	}()
	if !prefilled {
		enqueueAll(s)
	}
	for rv.n.Load() < total && rv.bad.Load() == 0 {
		time.Sleep(200 * time.Microsecond)
	}
	cancel() // flushes the attempt log before returning
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/1e3/float64(total), "cpu-µs/delivery")
	// New TCP connections: keep-alive reuse keeps this at most one per
	// worker, whatever b.N.
	b.ReportMetric(float64(rv.conns.Load()), "conns")
	delivered := int64(dbtest.Count(b, d, "deliveries:delivered"))
	attempts := int64(dbtest.Count(b, d, "attempts"))
	if rv.bad.Load() > 0 || delivered != total || attempts < total {
		b.Fatalf("%d delivered, %d attempts logged, %d rejected; want %d", delivered, attempts, rv.bad.Load(), total)
	}
}

// BenchmarkEnqueueToFirstByte measures the latency from the start of the
// enqueue transaction to the receiver's handler starting, one event at a
// time on an idle sender; it reports p50 and p99.
func BenchmarkEnqueueToFirstByte(b *testing.B) {
	rv := newBenchReceiver(b)
	rv.arrived = make(chan time.Time, 1)
	d := benchStore(b, rv, 1)
	s := webhook.NewSender(d, webhook.Options{Guard: webhook.Guard{AllowPrivate: true}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	go func() {
		for range s.Events() {
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		benchEnqueue(b, d, 1)
		s.Notify()
		lat = append(lat, (<-rv.arrived).Sub(start))
	}
	b.StopTimer()
	cancel()
	<-done
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
