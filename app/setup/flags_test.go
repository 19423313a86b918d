package setup_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"smista/app/config"
	"smista/app/setup"
)

// noMX answers every MX lookup with "no such host": an address on an
// unknown domain is a generic provider, and no test leaves the machine.
type noMX struct{}

func (noMX) LookupMX(context.Context, string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", IsNotFound: true}
}

// Flags fill a setup, the defaults what they leave out; a provider found
// is reported; an unusable value is an ErrFlag naming the flag.
func TestFromFlags(t *testing.T) {
	var steps []setup.Step
	env := setup.Env{Resolver: noMX{}, Progress: func(s setup.Step) { steps = append(steps, s) }}
	ctx := context.Background()
	s, err := env.FromFlags(ctx, setup.Flags{Address: "help@Shop.example", IMAP: "127.0.0.1:1143 insecure", Triage: "offline"})
	if err != nil {
		t.Fatal(err)
	}
	want := config.ServerDefaults{Host: "127.0.0.1", Port: 1143, TLS: "insecure"}
	if s.Account != "shop" || s.Username != "help@Shop.example" || s.Auth != "password" || s.IMAP != want || s.TriageProvider != "offline" {
		t.Fatalf("setup = %+v", s)
	}
	if len(steps) != 1 {
		t.Fatalf("steps = %#v, want one", steps)
	}
	if r, ok := steps[0].(setup.Recognised); !ok || r.Provider == "" || r.How == "" {
		t.Fatalf("steps = %#v, want one Recognised naming the provider and how", steps)
	}
	s, err = env.FromFlags(ctx, setup.Flags{Address: "a@b.example", Provider: "fastmail", Account: "work"})
	if err != nil || s.Provider != "fastmail" || s.IMAP.Host == "" || s.Account != "work" {
		t.Fatalf("--provider fastmail: %+v, %v", s, err)
	}
	for _, f := range []setup.Flags{
		{Address: "a@b.example", Provider: "hotmale"},
		{Address: "a@b.example", SMTP: "smtp.b.example:99999"},
		{Address: "a@b.example", IMAP: "imap.b.example:993 plaintext"},
	} {
		if _, err := env.FromFlags(ctx, f); !errors.Is(err, setup.ErrFlag) {
			t.Errorf("%+v: %v, want ErrFlag", f, err)
		}
	}
}
