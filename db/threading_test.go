package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"smista/mail"
)

// rawMail is a mail with the given Message-ID, In-Reply-To, References
// (space-separated) and subject; empty headers are left out.
func rawMail(t *testing.T, mid, inReplyTo, refs, subject string, day int) *mail.Message {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "Message-ID: %s\r\nSubject: %s\r\nDate: Mon, %02d Mar 2026 09:00:00 +0000\r\nFrom: a@x\r\n", mid, subject, day)
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\n", inReplyTo)
	}
	if refs != "" {
		fmt.Fprintf(&b, "References: %s\r\n", refs)
	}
	b.WriteString("\r\nbody\r\n")
	m, err := mail.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestThreading: a conversation is one thread whatever its headers do —
// a reply with In-Reply-To alone, References cut short, an answer stored
// before the email it answers — and a Re: subject joins a thread only
// when the reply has neither header.
func TestThreading(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "smista.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	save := func(ms ...*mail.Message) {
		t.Helper()
		if _, err := d.SaveMessages(ctx, "test", ms); err != nil {
			t.Fatal(err)
		}
	}
	thread := func(mid string) string {
		t.Helper()
		var thr string
		if err := d.r.QueryRowContext(ctx, `SELECT thread_id FROM messages WHERE message_id = ?`, mid).Scan(&thr); err != nil {
			t.Fatalf("%s: %v", mid, err)
		}
		return thr
	}
	root := mail.EmailID("<a@x>")
	save(rawMail(t, "<a@x>", "", "", "Login broken", 1))
	save(rawMail(t, "<b@x>", "<a@x>", "<a@x>", "Re: Login broken", 2))
	// In-Reply-To alone, naming the reply (not the root).
	save(rawMail(t, "<c@x>", "<b@x>", "", "Re: Login broken", 3))
	// References cut to the last one.
	save(rawMail(t, "<d@x>", "<c@x>", "<c@x>", "Re: Login broken", 4))
	// A reply stored before the email it answers, then that email.
	save(rawMail(t, "<f@x>", "<e@x>", "", "Re: Re: Login broken", 6))
	save(rawMail(t, "<e@x>", "<d@x>", "<a@x> <d@x>", "Re: Login broken", 5))
	// Neither header: the subject joins it; with a header naming an
	// unknown email, the subject does not.
	save(rawMail(t, "<g@x>", "", "", "RE: Fwd: Login broken", 7))
	save(rawMail(t, "<h@x>", "<unknown@x>", "", "Re: Login broken", 8))
	// A batch: root and headerless reply together.
	save(rawMail(t, "<p@x>", "", "", "Pricing", 1), rawMail(t, "<q@x>", "", "", "R: Pricing", 2))
	for _, mid := range []string{"<a@x>", "<b@x>", "<c@x>", "<d@x>", "<e@x>", "<f@x>", "<g@x>"} {
		if got := thread(mid); got != root {
			t.Errorf("%s is in thread %s, want the root's %s", mid, got, root)
		}
	}
	if got := thread("<h@x>"); got == root {
		t.Error("a reply to an unknown email joined a thread by its subject")
	}
	if thread("<q@x>") != thread("<p@x>") {
		t.Error("a headerless reply in the same batch as its email is apart")
	}
	items, err := d.Thread(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, it := range items {
		order = append(order, it.ID)
	}
	want := []string{mail.EmailID("<a@x>"), mail.EmailID("<b@x>"), mail.EmailID("<c@x>"), mail.EmailID("<d@x>"),
		mail.EmailID("<e@x>"), mail.EmailID("<f@x>"), mail.EmailID("<g@x>")}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("thread order %v, want oldest first %v", order, want)
	}
	// The rethread and the subject lookup seek their indexes.
	for _, q := range []string{
		`UPDATE messages SET thread_id = j.value->>1 FROM json_each('[["a","b"]]') j WHERE messages.thread_id = j.value->>0`,
		`SELECT thread_id FROM messages WHERE subject = 'x' AND date <= 5 ORDER BY date DESC LIMIT 1`,
		`SELECT COUNT(*) FROM messages t WHERE t.thread_id = 'x'`,
	} {
		plan := queryPlan(t, d, q, nil)
		if strings.Contains(plan, "SCAN messages") || strings.Contains(plan, "SCAN t") {
			t.Errorf("%s scans messages:\n%s", q, plan)
		}
	}
}
