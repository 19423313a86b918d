// Command receiver is a smista webhook receiver in Go: it verifies each
// ticket.suggested delivery and prints it as one JSON line.
//
//   - v1 (HMAC-SHA256) with the official Standard Webhooks library, given
//     the endpoint's secret in WEBHOOK_SECRET (whsec_...);
//   - v1a (Ed25519) with crypto/ed25519, given the endpoint's public key in
//     WEBHOOK_PUBLIC_KEY (whpk_...): the library does not do v1a yet.
//
// It deduplicates on webhook-id (smista may deliver an event twice: a
// retry after a lost answer, a replay) and answers 2xx fast: do the real
// work (create the ticket) after answering, or in a queue.
//
//	WEBHOOK_SECRET=whsec_... PORT=8000 go run ./docs/receivers/go
package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// tolerance is how old (or new) a webhook-timestamp may be: replay protection.
const tolerance = 5 * time.Minute

// ticket is the body of ticket.suggested (DESIGN.md, "The event").
type ticket struct {
	Event       string  `json:"event"`
	EmailID     string  `json:"email_id"`
	ThreadID    string  `json:"thread_id"`
	From        string  `json:"from"`
	Subject     string  `json:"subject"`
	Summary     string  `json:"summary"`
	Priority    string  `json:"priority"`
	Confidence  float64 `json:"confidence"`
	Category    string  `json:"category"`
	RawEmailURL string  `json:"raw_email_url"`
}

type receiver struct {
	hmac   *standardwebhooks.Webhook // nil: no WEBHOOK_SECRET
	public ed25519.PublicKey         // nil: no WEBHOOK_PUBLIC_KEY
	mu     sync.Mutex
	seen   map[string]bool
}

func main() {
	rv := &receiver{seen: map[string]bool{}}
	if s := os.Getenv("WEBHOOK_SECRET"); s != "" {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			log.Fatalf("WEBHOOK_SECRET: %v", err)
		}
		rv.hmac = wh
	}
	if k := os.Getenv("WEBHOOK_PUBLIC_KEY"); k != "" {
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(k, "whpk_"))
		if err != nil || len(b) != ed25519.PublicKeySize {
			log.Fatal("WEBHOOK_PUBLIC_KEY: want whpk_ followed by the base64 of 32 bytes")
		}
		rv.public = b
	}
	if rv.hmac == nil && rv.public == nil {
		log.Fatal("set WEBHOOK_SECRET (v1) or WEBHOOK_PUBLIC_KEY (v1a)")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, rv))
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Verify the raw bytes: parsing and re-encoding the JSON first
	// changes them, and the signature with them.
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if err := rv.verify(body, r.Header); err != nil {
		log.Printf("rejected %s: %v", r.Header.Get("webhook-id"), err)
		http.Error(w, "invalid signature", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	rv.mu.Lock()
	dup := rv.seen[id]
	rv.seen[id] = true
	rv.mu.Unlock()
	if dup {
		w.WriteHeader(http.StatusOK) // already handled: acknowledge, do nothing
		return
	}
	var t ticket
	if err := json.Unmarshal(body, &t); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	line, _ := json.Marshal(map[string]string{"webhook_id": id, "event": t.Event, "email_id": t.EmailID, "subject": t.Subject})
	fmt.Println(string(line))
	w.WriteHeader(http.StatusNoContent)
}

// verify accepts a v1 signature (the library) or a v1a one (Ed25519).
func (rv *receiver) verify(body []byte, h http.Header) error {
	if rv.hmac != nil && rv.hmac.Verify(body, h) == nil {
		return nil
	}
	if rv.public == nil {
		return errors.New("no valid v1 signature")
	}
	id, tsText := h.Get("webhook-id"), h.Get("webhook-timestamp")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || id == "" {
		return errors.New("missing or malformed webhook-id or webhook-timestamp")
	}
	if d := time.Since(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook-timestamp outside the tolerance")
	}
	signed := []byte(id + "." + tsText + "." + string(body))
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		sig, ok := strings.CutPrefix(s, "v1a,")
		if !ok {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil && ed25519.Verify(rv.public, signed, b) {
			return nil
		}
	}
	return errors.New("no valid signature")
}
