package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfigFull(t *testing.T) {
	src := `
[triage]
provider  = "openai"
model     = "gpt-4o-mini"
base_url  = "http://127.0.0.1:8000/v1"
api_key_env = "MY_KEY"
threshold = 0.9
vip       = ["ceo@client.com", "bigclient.com"]
raw_email_url = "https://app/emails/{email_id}"

[webhook]
timeout        = "3s"
retries        = ["10s", "20s"]
disable_after  = 5
disable_window = "10m"
allow_private  = false

[[account]]
name      = "work"
from      = "Support <support@example.com>"
mailboxes = ["INBOX", "Support"]
imap = { host = "imap.example.com", port = 993, tls = "tls", username = "support@example.com", password_cmd = "pass show mail/work" }
smtp = { host = "smtp.example.com", port = 465, tls = "tls", username = "support@example.com", password_cmd = "pass show mail/work" }
`
	cfg := Default()
	if err := Parse([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Triage.Provider != "openai" || cfg.Triage.Threshold != 0.9 || len(cfg.Triage.VIP) != 2 {
		t.Errorf("triage = %+v", cfg.Triage)
	}
	if cfg.Webhook.Timeout.Duration != 3*time.Second || len(cfg.Webhook.Retries) != 2 ||
		cfg.Webhook.Retries[1].Duration != 20*time.Second || cfg.Webhook.AllowPrivate {
		t.Errorf("webhook = %+v", cfg.Webhook)
	}
	if len(cfg.Accounts) != 1 || cfg.Accounts[0].IMAP.Port != 993 || cfg.Accounts[0].SMTP.PasswordCmd != "pass show mail/work" {
		t.Errorf("accounts = %+v", cfg.Accounts)
	}
	// Keys absent from the file keep their defaults.
	if cfg.Triage.Concurrency != 4 {
		t.Errorf("default concurrency lost: %d", cfg.Triage.Concurrency)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := map[string]struct {
		src  string
		want []string // substrings of the error
	}{
		"unknown key":          {"[triage]\nprovider = \"offline\"\nthreshhold = 0.5\n", []string{"line 3", "triage.threshhold"}},
		"unknown table":        {"[triage]\n\n[webhooks]\ntimeout = \"5s\"\n", []string{"line 3", "webhooks"}},
		"wrong type":           {"[triage]\nthreshold = \"high\"\n", []string{"line 2", "threshold"}},
		"bad duration":         {"[webhook]\ntimeout = \"five\"\n", []string{"line 2", "timeout", "five"}},
		"bad provider":         {"[triage]\nprovider = \"gpt\"\n", []string{"triage.provider", "gpt"}},
		"threshold range":      {"[triage]\nthreshold = 1.5\n", []string{"triage.threshold"}},
		"bad tls":              {"[[account]]\nname = \"a\"\nimap = { tls = \"ssl\" }\n", []string{"imap.tls", "ssl"}},
		"syntax":               {"[triage\n", []string{"line 1"}},
		"account without name": {"[[account]]\nfrom = \"x@y\"\n", []string{"name is required"}},
		"bad notify":           {"[ui]\nnotify = \"popup\"\n", []string{"ui.notify", "popup", "osc9"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := Default()
			err := Parse([]byte(tt.src), &cfg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestParseUINotify: ui.notify is off unless set, and takes its values.
func TestParseUINotify(t *testing.T) {
	cfg := Default()
	if err := Parse(nil, &cfg); err != nil || cfg.UI.Notify != "" {
		t.Fatalf("default notify %q (%v), want off", cfg.UI.Notify, err)
	}
	for _, v := range []string{"off", "bell", "osc9", "osc777"} {
		cfg := Default()
		if err := Parse([]byte("[ui]\nnotify = \""+v+"\"\n"), &cfg); err != nil || cfg.UI.Notify != v {
			t.Errorf("notify = %q: %q, %v", v, cfg.UI.Notify, err)
		}
	}
}

func TestLoadConfigMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	if _, err := Load(missing, false); err != nil {
		t.Fatalf("absent default config must not fail: %v", err)
	}
	if _, err := Load(missing, true); err == nil {
		t.Fatal("absent --config must fail")
	}
}

func TestConfigSecretsNeverEchoed(t *testing.T) {
	// A typo'd key holding a secret must not leak the value into the error.
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte("[[account]]\nname = \"a\"\nimap = { password = \"hunter2-secret\" }\n"), 0o600)
	_, err := Load(path, true)
	if err == nil {
		t.Fatal("plain password key must be rejected (only password_cmd/password_env exist)")
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

func TestKeyEnvDefaultsPerProvider(t *testing.T) {
	tests := map[string]struct {
		cfg  TriageConfig
		want string
	}{
		"openai":    {TriageConfig{Provider: "openai"}, "OPENAI_API_KEY"},
		"anthropic": {TriageConfig{Provider: "anthropic"}, "ANTHROPIC_API_KEY"},
		"ollama":    {TriageConfig{Provider: "ollama"}, ""},
		"explicit":  {TriageConfig{Provider: "anthropic", APIKeyEnv: "MY_KEY"}, "MY_KEY"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.cfg.KeyEnv(); got != tt.want {
				t.Fatalf("KeyEnv() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMailAccountRefusesPlainTextToRemoteHost(t *testing.T) {
	cfg := Config{Accounts: []AccountConfig{{Name: "work", IMAP: ServerConfig{Host: "imap.example.com", Port: 143, TLS: "insecure"}}}}
	_, err := cfg.MailAccounts(func(string) string { return "" }, "")
	if err == nil || !strings.Contains(err.Error(), "allowed only for loopback") {
		t.Fatalf("err = %v, want a loopback-only refusal", err)
	}
}

func TestParseServe(t *testing.T) {
	src := `
[serve]
listen = "0.0.0.0:2200"
max_sessions = 5

[[serve.agent]]
name = "giulia"
keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0 giulia@laptop"]

[[serve.agent]]
name = "marco"
authorized_keys = "/etc/smista/marco.keys"
`
	cfg := Default()
	if err := Parse([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	s := cfg.Serve
	if s.Listen != "0.0.0.0:2200" || s.MaxSessions != 5 || len(s.Agents) != 2 ||
		s.Agents[0].Name != "giulia" || len(s.Agents[0].Keys) != 1 || s.Agents[1].AuthorizedKeys != "/etc/smista/marco.keys" {
		t.Errorf("serve = %+v", s)
	}
	if d := Default().Serve; d.Listen != "127.0.0.1:2222" || d.MaxSessions != 32 {
		t.Errorf("defaults = %+v, want 127.0.0.1:2222 and 32 sessions", d)
	}
	bad := map[string]string{
		"no key":     "[[serve.agent]]\nname = \"giulia\"\n",
		"bad name":   "[[serve.agent]]\nname = \"giu lia\"\nkeys = [\"k\"]\n",
		"twice":      "[[serve.agent]]\nname = \"a\"\nkeys = [\"k\"]\n[[serve.agent]]\nname = \"a\"\nkeys = [\"k\"]\n",
		"no session": "[serve]\nmax_sessions = 0\n",
	}
	for name, src := range bad {
		t.Run(name, func(t *testing.T) {
			cfg := Default()
			if err := Parse([]byte(src), &cfg); err == nil || !strings.Contains(err.Error(), "serve.") {
				t.Errorf("Parse: %v, want an error naming the serve key", err)
			}
		})
	}
}
