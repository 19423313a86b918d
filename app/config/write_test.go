package config

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeMX answers MX lookups from a map: no DNS is asked.
type fakeMX map[string][]string

func (f fakeMX) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	hosts, ok := f[name]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	var out []*net.MX
	for _, h := range hosts {
		out = append(out, &net.MX{Host: h, Pref: 10})
	}
	return out, nil
}

func TestRecogniseProvider(t *testing.T) {
	res := fakeMX{
		"acme.it":    {"aspmx.l.google.com."},
		"contoso.io": {"contoso-io.mail.protection.outlook.com."},
		"self.org":   {"mx.self.org."},
	}
	for addr, want := range map[string]struct{ id, how, imap string }{
		"ada@gmail.com":     {"gmail", "domain", "imap.gmail.com"},
		"bob@Outlook.com":   {"microsoft", "domain", "outlook.office365.com"},
		"c@fastmail.com":    {"fastmail", "domain", "imap.fastmail.com"},
		"d@icloud.com":      {"icloud", "domain", "imap.mail.me.com"},
		"e@yahoo.com":       {"yahoo", "domain", "imap.mail.yahoo.com"},
		"f@acme.it":         {"gmail", "MX aspmx.l.google.com", "imap.gmail.com"},
		"g@contoso.io":      {"microsoft", "MX contoso-io.mail.protection.outlook.com", "outlook.office365.com"},
		"h@self.org":        {"generic", "guessed", "imap.self.org"},
		"i@no-mx.example":   {"generic", "guessed", "imap.no-mx.example"},
		"j@googlemail.com.": {"gmail", "domain", "imap.gmail.com"},
	} {
		p, how, err := Recognise(context.Background(), res, addr)
		if err != nil || p.ID != want.id || how != want.how || p.IMAP.Host != want.imap {
			t.Errorf("%s: %s %q %s %v, want %+v", addr, p.ID, how, p.IMAP.Host, err, want)
		}
	}
	if _, _, err := Recognise(context.Background(), res, "no-domain"); err == nil {
		t.Error("an address without a domain was recognised")
	}
	for _, p := range Providers() {
		if p.IMAP.Port == 0 || p.SMTP.Port == 0 || (p.Auth == "oauth2" && p.OAuth2.TokenURL == "") {
			t.Errorf("provider %s incomplete: %+v", p.ID, p)
		}
	}
}

func TestRenderLoadsAndHoldsNoSecret(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	gmail, _ := ProviderByID("gmail")
	for name, s := range map[string]Setup{
		"password": {Account: "work", Address: "help@shop.it", Name: `Shop "Help" Desk`, Provider: "generic",
			IMAP: ServerDefaults{"imap.shop.it", 993, "tls"}, SMTP: ServerDefaults{"smtp.shop.it", 465, "tls"},
			Username: "help@shop.it", Auth: "password", PasswordCmd: "pass show mail/shop",
			TriageProvider: "openai", Model: "gpt-4o-mini", APIKeyEnv: "OPENAI_API_KEY"},
		"oauth2": {Account: "gmail", Address: "ada@gmail.com", Provider: "gmail", IMAP: gmail.IMAP, SMTP: gmail.SMTP,
			Username: "ada@gmail.com", Auth: "oauth2",
			OAuth2: OAuth2Config{ClientID: "123.apps.googleusercontent.com", ClientSecretCmd: "pass show gcp/secret"}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := Render(s, now)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Default()
			if err := Parse(b, &cfg); err != nil {
				t.Fatalf("rendered config does not load: %v\n%s", err, b)
			}
			if len(cfg.Accounts) != 1 || cfg.Accounts[0].IMAP.Host != s.IMAP.Host || cfg.Accounts[0].SMTP.Port != s.SMTP.Port {
				t.Fatalf("accounts = %+v", cfg.Accounts)
			}
			if _, err := cfg.MailAccounts(func(string) string { return "" }, ""); err != nil {
				t.Fatalf("accounts do not wire: %v", err)
			}
			if !strings.HasPrefix(string(b), "# smista configuration") || !strings.Contains(string(b), "smista doctor") {
				t.Fatalf("no explaining comments:\n%s", b)
			}
			if name == "oauth2" && (cfg.Accounts[0].OAuth2.Provider != "gmail" || cfg.Accounts[0].IMAP.Auth != "oauth2") {
				t.Fatalf("oauth2 = %+v", cfg.Accounts[0])
			}
		})
	}
	noSecret := Setup{Account: "g", Address: "a@gmail.com", Provider: "gmail", IMAP: gmail.IMAP, SMTP: gmail.SMTP,
		Auth: "oauth2", OAuth2: OAuth2Config{ClientID: "id"}}
	if _, err := Render(noSecret, now); err == nil || !strings.Contains(err.Error(), "client secret") {
		t.Fatalf("gmail without a client secret: %v", err)
	}
	if _, err := Render(Setup{Account: "x", Address: "a@b.c", IMAP: ServerDefaults{"h", 1, ""}, SMTP: ServerDefaults{"h", 1, ""}, Auth: "password"}, now); err == nil {
		t.Fatal("a setup without a password source rendered")
	}
}

func TestWriteFileRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.toml")
	if err := WriteFile(path, []byte("# one\n"), false); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("# two\n"), false); !errors.Is(err, ErrExists) {
		t.Fatalf("second write: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "# one\n" {
		t.Fatalf("file changed to %q", b)
	}
	if err := WriteFile(path, []byte("# three\n"), true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "# three\n" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("overwrite: %q mode %o", b, fi.Mode().Perm())
	}
}

func TestOAuth2ConfigChecks(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"no client id": {`[[account]]
name = "g"
imap = { host = "imap.gmail.com", port = 993, auth = "oauth2" }
[account.oauth2]
provider = "gmail"`, "needs oauth2.client_id"},
		"unknown provider": {`[[account]]
name = "g"
[account.oauth2]
provider = "aol"`, `oauth2.provider "aol"`},
		"bad flow": {`[[account]]
name = "g"
[account.oauth2]
flow = "telepathy"`, "want browser or device"},
	} {
		cfg := Default()
		err := Parse([]byte(tc.src), &cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
