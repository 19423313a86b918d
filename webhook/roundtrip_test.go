package webhook_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"smista/webhook"
)

// TestDeliverGoesStraightToTheTransport: an attempt sends exactly the
// headers it logs (the client's header copy is skipped, nothing is added
// or dropped), a redirect is answered, not followed, and a failed dial
// reads as the client's error did ("Post \"URL\": ...").
func TestDeliverGoesStraightToTheTransport(t *testing.T) {
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Clone())
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/moved" {
			w.Header().Set("Location", "/hook")
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer srv.Close()
	tr := webhook.NewHTTPTransport(webhook.HTTPOptions{Guard: webhook.Guard{AllowPrivate: true}, UserAgent: "smista/test"})
	defer tr.Close()
	secret, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	d := webhook.Delivery{Kind: webhook.KindWebhook, WebhookID: "msg_1", Secret: secret, Payload: []byte(`{"a":1}`)}
	ctx := context.Background()

	d.URL = srv.URL + "/hook"
	res := tr.Deliver(ctx, d)
	if !res.OK() || res.StatusCode != 200 || len(got) != 1 {
		t.Fatalf("delivered: %+v, %d requests", res, len(got))
	}
	for k, v := range res.RequestHeaders {
		if strings.Join(got[0][k], ",") != strings.Join(v, ",") {
			t.Errorf("header %s: sent %q, logged %q", k, got[0][k], v)
		}
	}
	for _, k := range []string{"Authorization", "Cookie", "Accept-Encoding"} {
		if got[0].Get(k) != "" {
			t.Errorf("the request carried %s: %q", k, got[0].Get(k))
		}
	}

	d.URL = srv.URL + "/moved"
	res = tr.Deliver(ctx, d)
	if res.Class != webhook.ClassRedirect || res.StatusCode != http.StatusFound || len(got) != 2 {
		t.Fatalf("redirect: %+v, %d requests (want 2: the Location is never requested)", res, len(got))
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	d.URL = refused
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res = tr.Deliver(actx, d)
	if want := `Post "` + refused + `": `; res.Class != webhook.ClassConnect || !strings.HasPrefix(res.Err, want) {
		t.Errorf("refused: class %q, error %q; want class connect, error starting %q", res.Class, res.Err, want)
	}
}
