package mail_test

import (
	"testing"

	"smista/mail"
)

// TestBaseSubject strips reply and forward prefixes, stacked, any case,
// with a count, and leaves other colons alone.
func TestBaseSubject(t *testing.T) {
	for in, want := range map[string]struct {
		base  string
		reply bool
	}{
		"Login broken":              {"Login broken", false},
		"Re: Login broken":          {"Login broken", true},
		"RE: Fwd: Login broken":     {"Login broken", true},
		"  re[2]:  Login broken":    {"Login broken", true},
		"R: I: Preventivo":          {"Preventivo", true},
		"AW: WG: Anfrage":           {"Anfrage", true},
		"Order: 5531 not delivered": {"Order: 5531 not delivered", false},
		"Ticket #12: Re: something": {"Ticket #12: Re: something", false},
		"Re:":                       {"", true},
		"":                          {"", false},
	} {
		base, reply := mail.BaseSubject(in)
		if base != want.base || reply != want.reply {
			t.Errorf("BaseSubject(%q) = %q, %v; want %q, %v", in, base, reply, want.base, want.reply)
		}
	}
}
