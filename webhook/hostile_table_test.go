package webhook_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"smista/db"
	"smista/db/dbtest"
	"smista/webhook"
)

// TestHostileReceivers attempts one delivery to each kind of receiver a
// careless or hostile integrator may run, and checks what the attempt log
// keeps: the class of the failure (or the success), and stored bytes that
// stay small whatever the receiver sends — the database and the process
// never grow with the receiver's answer.
func TestHostileReceivers(t *testing.T) {
	big := strings.Repeat("x", 10<<20)

	tests := map[string]struct {
		handler   http.HandlerFunc
		class     string
		code      int
		maxAlloc  uint64 // bytes the attempt may allocate (0: not checked)
		retryWait time.Duration
	}{
		"redirect": {handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
		}, class: webhook.ClassRedirect, code: 302},
		"410 gone": {handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) },
			class: webhook.ClassHTTPStatus, code: 410},
		"hang": {handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // read: the server then sees the client leave
			<-r.Context().Done()
		},
			class: webhook.ClassTimeout},
		"10 MB body, 200": {handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) },
			class: "", code: 200, maxAlloc: 4 << 20},
		"10 MB body, 500": {handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, big)
		}, class: webhook.ClassHTTPStatus, code: 500, maxAlloc: 4 << 20},
		"10 MB of headers": {handler: func(w http.ResponseWriter, r *http.Request) {
			for i := range 1000 {
				w.Header().Set("X-Pad-"+strings.Repeat("p", 3)+string(rune('a'+i%26))+strings.Repeat("q", i%7), strings.Repeat("h", 10<<10))
			}
			w.WriteHeader(200)
		}, class: webhook.ClassOther},
		"trickled body": {handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(200)
			for range 100 {
				if _, err := io.WriteString(w, "x"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}, class: "", code: 200},
		"reset": {handler: func(w http.ResponseWriter, r *http.Request) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
		}, class: webhook.ClassOther},
		"429 with Retry-After": {handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "45")
			w.WriteHeader(http.StatusTooManyRequests)
		}, class: webhook.ClassHTTPStatus, code: 429, retryWait: 45 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			defer srv.CloseClientConnections() // a held request ends with its case
			clk := newClock()
			d := mustOpenDB(t, clk.Now)
			ep, _ := dbtest.SeedEndpoint(t, d, srv.URL+"/hook")
			dbtest.SeedEvents(t, d, `{"event":"ticket.suggested","email_id":"e1"}`)
			dls, err := d.Deliveries(context.Background(), db.DeliveryFilter{EndpointID: ep})
			if err != nil || len(dls) != 1 {
				t.Fatalf("deliveries %v, %v", dls, err)
			}
			opts := fastOptions(clk)
			opts.Timeout = 2 * time.Second
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			o, err := webhook.NewSender(d, opts).DeliverNow(context.Background(), dls[0].ID)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if o.Result.Class != tc.class || (tc.code != 0 && o.Result.StatusCode != tc.code) {
				t.Fatalf("class %q code %d (%s), want class %q code %d", o.Result.Class, o.Result.StatusCode, o.Result.Err, tc.class, tc.code)
			}
			if tc.maxAlloc > 0 && after.TotalAlloc-before.TotalAlloc > tc.maxAlloc {
				t.Errorf("the attempt allocated %d bytes for a 10 MB answer, want at most %d", after.TotalAlloc-before.TotalAlloc, tc.maxAlloc)
			}
			if tc.retryWait > 0 {
				if wait := o.NextAttemptAt.Sub(clk.Now()); wait < tc.retryWait {
					t.Errorf("next attempt in %s, want the receiver's Retry-After %s", wait, tc.retryWait)
				}
			}
			atts, err := d.Attempts(context.Background(), db.AttemptFilter{DeliveryID: dls[0].ID})
			if err != nil || len(atts) != 1 {
				t.Fatalf("attempts %d, %v", len(atts), err)
			}
			stored := len(atts[0].ResponseBody)
			for k, vs := range atts[0].ResponseHeaders {
				stored += len(k)
				for _, v := range vs {
					stored += len(v)
				}
			}
			if stored > 9<<10 {
				t.Errorf("the attempt stored %d bytes of the answer, want at most 9 KiB (4 KiB body, 4 KiB headers)", stored)
			}
		})
	}
}
