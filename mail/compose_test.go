package mail_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"smista/mail"
)

func TestReplyAllRecipients(t *testing.T) {
	orig := &mail.Message{
		From: mail.Address{Name: "Anna", Addr: "anna@example.com"},
		To:   []mail.Address{{Addr: "Support@Example.com"}, {Name: "Bo", Addr: "bo@example.com"}},
		Cc:   []mail.Address{{Addr: "anna@example.com"}, {Addr: "bo@example.com"}, {Addr: "cy@example.com"}, {Addr: ""}},
	}
	to, cc := mail.ReplyAllRecipients(orig, "support@example.com")
	if len(to) != 1 || to[0].Addr != "anna@example.com" {
		t.Errorf("to = %v, want the sender", to)
	}
	var got []string
	for _, a := range cc {
		got = append(got, a.Addr)
	}
	// The account itself (any case), the sender, repeats and empty
	// addresses are left out.
	if want := []string{"bo@example.com", "cy@example.com"}; !slices.Equal(got, want) {
		t.Errorf("cc = %v, want %v", got, want)
	}
}

func TestForwardSubject(t *testing.T) {
	for in, want := range map[string]string{
		"Order":               "Fwd: Order",
		"Fwd: FW: fwd: Order": "Fwd: Order",
		"Re: Order":           "Fwd: Re: Order",
		"line\r\nbreak":       "Fwd: line break",
	} {
		if got := mail.ForwardSubject(in); got != want {
			t.Errorf("ForwardSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAddressListRoundTrip: what FormatAddressList writes in the editor,
// ParseAddressList reads back as the same addresses.
func TestAddressListRoundTrip(t *testing.T) {
	as := []mail.Address{{Name: "Rossi, Anna", Addr: "anna@example.com"}, {Addr: "bo@example.com"},
		{Name: "Zoë \"Z\" Ünal", Addr: "zoe@example.com"}}
	text := mail.FormatAddressList(as)
	got, err := mail.ParseAddressList(text)
	if err != nil {
		t.Fatalf("ParseAddressList(%q): %v", text, err)
	}
	if !slices.Equal(got, as) {
		t.Errorf("round trip of %q = %v, want %v", text, got, as)
	}
	if _, err := mail.ParseAddressList("anna@, <broken"); !errors.Is(err, mail.ErrBadAddress) {
		t.Errorf("a broken list: %v, want ErrBadAddress", err)
	}
	if got, err := mail.ParseAddressList("  "); got != nil || err != nil {
		t.Errorf("an empty list = %v, %v; want nil, nil", got, err)
	}
}

// TestComposeStandalone: a forward or a new message is not threaded, and
// no field can add a header.
func TestComposeStandalone(t *testing.T) {
	raw := string(mail.Compose(mail.MailOptions{
		From: mail.Address{Addr: "support@example.com"}, To: []mail.Address{{Addr: "x@example.com"}},
		Cc:      []mail.Address{{Name: "Evil\r\nBcc: victim@example.com", Addr: "y@example.com"}},
		Subject: "Hello\r\nBcc: victim@example.com", Body: "text", Date: time.Unix(0, 0), MessageID: "<n@example.com>",
	}))
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for _, bad := range []string{"In-Reply-To", "References", "\r\nBcc:"} {
		if strings.Contains(head, bad) {
			t.Errorf("header has %q:\n%s", bad, head)
		}
	}
	m, err := mail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.To) != 1 || len(m.Cc) != 1 || m.Cc[0].Addr != "y@example.com" || !strings.HasPrefix(m.Subject, "Hello") {
		t.Errorf("parsed back: to %v cc %v subject %q", m.To, m.Cc, m.Subject)
	}
}
