// Package config is smista's TOML configuration: its keys (part of the
// contract in DESIGN.md), their defaults and checks, and the wiring of a
// configuration into the App's options, accounts and classifier.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is the TOML configuration; every key is optional and part of the
// contract in DESIGN.md.
type Config struct {
	Triage   TriageConfig    `toml:"triage"`
	Webhook  WebhookConfig   `toml:"webhook"`
	Accounts []AccountConfig `toml:"account"`
	Serve    ServeConfig     `toml:"serve"`
	UI       UIConfig        `toml:"ui"`
}

// UIConfig is the terminal interface's.
type UIConfig struct {
	// Notify tells of new work (a new support request, an endpoint
	// disabled): "off" (the default), "bell" (the terminal bell), "osc9"
	// (a desktop notification: iTerm2, WezTerm, Windows Terminal, kitty,
	// foot) or "osc777" (rxvt-unicode, VTE terminals such as GNOME
	// Terminal).
	Notify string `toml:"notify"`
}

// ServeConfig is the team server's ("smista serve"): where it listens,
// its host key, and the agents who may connect.
type ServeConfig struct {
	// Listen is host:port (default 127.0.0.1:2222).
	Listen string `toml:"listen"`
	// HostKey is the server's ed25519 key file, generated at first start
	// with mode 0600 (default: ssh_host_ed25519_key next to the database).
	HostKey string `toml:"host_key"`
	// MaxSessions caps the concurrent sessions (default 32).
	MaxSessions int           `toml:"max_sessions"`
	Agents      []AgentConfig `toml:"agent"`
}

// AgentConfig is one agent of the team: a name (actions are recorded as
// human:<name>) and the public keys that log in as it.
type AgentConfig struct {
	Name string `toml:"name"`
	// Keys are public keys in authorized_keys format ("ssh-ed25519 AAAA…").
	Keys []string `toml:"keys"`
	// AuthorizedKeys is a file of more keys, one per line.
	AuthorizedKeys string `toml:"authorized_keys"`
}

// TriageConfig selects the classifier and the decision policy.
type TriageConfig struct {
	Provider    string   `toml:"provider"`
	Model       string   `toml:"model"`
	BaseURL     string   `toml:"base_url"`
	APIKeyEnv   string   `toml:"api_key_env"`
	Threshold   float64  `toml:"threshold"`
	VIP         []string `toml:"vip"`
	RawEmailURL string   `toml:"raw_email_url"`
	Timeout     Duration `toml:"timeout"`
	Concurrency int      `toml:"concurrency"`
}

// KeyEnv returns the environment variable that holds the provider's API
// key: api_key_env when set, else the provider's usual one ("" for offline
// and ollama, which need none).
func (t TriageConfig) KeyEnv() string {
	if t.APIKeyEnv != "" {
		return t.APIKeyEnv
	}
	switch t.Provider {
	case "openai":
		return "OPENAI_API_KEY"
	case "anthropic":
		return "ANTHROPIC_API_KEY"
	}
	return ""
}

// WebhookConfig holds the delivery defaults.
type WebhookConfig struct {
	Timeout       Duration   `toml:"timeout"`
	Retries       []Duration `toml:"retries"`
	DisableAfter  int        `toml:"disable_after"`
	DisableWindow Duration   `toml:"disable_window"`
	AllowPrivate  bool       `toml:"allow_private"`
	RotationGrace Duration   `toml:"rotation_grace"`
}

// AccountConfig is one mailbox account.
type AccountConfig struct {
	Name      string   `toml:"name"`
	From      string   `toml:"from"`
	Mailboxes []string `toml:"mailboxes"`
	SentBox   string   `toml:"sent_mailbox"`
	// Archive is the mailbox "done" moves an email into (default
	// "Archive", created when missing).
	Archive string       `toml:"archive"`
	IMAP    ServerConfig `toml:"imap"`
	SMTP    ServerConfig `toml:"smtp"`
	// OAuth2 is the built-in sign-in used by servers with auth = "oauth2".
	OAuth2 OAuth2Config `toml:"oauth2"`
}

// OAuth2Config is an account's OAuth2 client: the user's own client id
// (and secret, through a command or a file, for providers that want one)
// at a provider of the table or at explicit endpoints. The tokens never
// live here: they are kept in the OS keyring or a 0600 file in the data
// directory.
type OAuth2Config struct {
	Provider         string   `toml:"provider"` // gmail | microsoft (endpoints from the table)
	ClientID         string   `toml:"client_id"`
	ClientSecretCmd  string   `toml:"client_secret_cmd"`
	ClientSecretFile string   `toml:"client_secret_file"`
	Tenant           string   `toml:"tenant"` // microsoft: common (default), organizations, or a tenant id
	Flow             string   `toml:"flow"`   // browser (default) | device
	AuthURL          string   `toml:"auth_url"`
	TokenURL         string   `toml:"token_url"`
	DeviceURL        string   `toml:"device_url"`
	Scopes           []string `toml:"scopes"`
}

// UsesOAuth2 reports whether one of the account's servers signs in with
// the built-in OAuth2.
func (a AccountConfig) UsesOAuth2() bool {
	return a.IMAP.Auth == "oauth2" || a.SMTP.Auth == "oauth2"
}

// ServerConfig is an IMAP or SMTP server. Secrets never live here: only the
// command or environment variable that yields them.
type ServerConfig struct {
	Host        string `toml:"host"`
	Port        int    `toml:"port"`
	TLS         string `toml:"tls"` // tls | starttls | insecure
	Username    string `toml:"username"`
	PasswordCmd string `toml:"password_cmd"`
	PasswordEnv string `toml:"password_env"`
	Auth        string `toml:"auth"` // plain (default) | oauth2 | xoauth2 | oauthbearer
	TokenCmd    string `toml:"token_cmd"`
}

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration struct{ time.Duration }

// UnmarshalText parses "5s", "30m"; it fails on anything else.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. \"30s\", \"5m\")", b)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: negative", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (o OAuth2Config) validate(used bool) error {
	switch o.Flow {
	case "", "browser", "device":
	default:
		return fmt.Errorf("oauth2.flow %q: want browser or device", o.Flow)
	}
	if o.Provider != "" {
		if p, ok := ProviderByID(o.Provider); !ok || p.OAuth2.TokenURL == "" {
			return fmt.Errorf("oauth2.provider %q: want gmail or microsoft (or set auth_url and token_url)", o.Provider)
		}
	}
	if !used {
		return nil
	}
	if o.ClientID == "" {
		return errors.New(`auth = "oauth2" needs oauth2.client_id (your own OAuth2 client; see README.md, Your own mailbox)`)
	}
	if o.Provider == "" && (o.AuthURL == "" || o.TokenURL == "") {
		return errors.New(`auth = "oauth2" needs oauth2.provider (gmail or microsoft) or oauth2.auth_url and token_url`)
	}
	return nil
}

// Default returns the configuration used when no file exists.
func Default() Config {
	return Config{
		Triage: TriageConfig{
			Provider:    "offline",
			Threshold:   0.80,
			RawEmailURL: "mid:{message_id}",
			Timeout:     Duration{60 * time.Second},
			Concurrency: 4,
		},
		Serve: ServeConfig{Listen: "127.0.0.1:2222", MaxSessions: 32},
		Webhook: WebhookConfig{
			Timeout:       Duration{5 * time.Second},
			Retries:       []Duration{{30 * time.Second}, {60 * time.Second}, {90 * time.Second}},
			DisableAfter:  30,
			DisableWindow: Duration{30 * time.Minute},
			AllowPrivate:  true,
			RotationGrace: Duration{24 * time.Hour},
		},
	}
}

// DefaultPath returns $XDG_CONFIG_HOME/smista/config.toml (falling
// back to ~/.config), or "" when neither is known.
func DefaultPath(getenv func(string) string) string {
	base := getenv("XDG_CONFIG_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "smista", "config.toml")
}

// DataDir returns $XDG_DATA_HOME/smista (falling back to
// ~/.local/share/smista), where the database and the OAuth2 token files
// live by default, or "" when neither is known.
func DataDir(getenv func(string) string) string {
	base := getenv("XDG_DATA_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "smista")
}

// Load reads path over the defaults. A missing file is not an error
// unless required (an explicit --config). Unknown keys and wrong types fail
// with the key and line.
func Load(path string, required bool) (Config, error) {
	cfg := Default()
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := Parse(b, &cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes TOML b over cfg and validates the result. Its errors name
// the line and the whole key, and say what the key wants.
func Parse(b []byte, cfg *Config) error {
	if err := typeCheck(b); err != nil {
		return err
	}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			var msgs []string
			for _, e := range strict.Errors {
				row, _ := e.Position()
				msgs = append(msgs, fmt.Sprintf("line %d: unknown key %q", row, strings.Join(e.Key(), ".")))
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			if key := strings.Join(de.Key(), "."); key != "" {
				return fmt.Errorf("line %d: key %q: %s", row, key, de.Error())
			}
			return fmt.Errorf("line %d: %s", row, de.Error())
		}
		return err
	}
	return cfg.Validate()
}

// Validate checks values the type system cannot: enums and ranges.
func (c *Config) Validate() error {
	switch c.Triage.Provider {
	case "offline", "openai", "anthropic", "ollama":
	default:
		return fmt.Errorf("triage.provider %q: want offline, openai, anthropic or ollama", c.Triage.Provider)
	}
	if c.Triage.Threshold < 0 || c.Triage.Threshold > 1 {
		return fmt.Errorf("triage.threshold %v: want a number between 0 and 1", c.Triage.Threshold)
	}
	if c.Webhook.Timeout.Duration <= 0 {
		return errors.New("webhook.timeout: must be positive")
	}
	if c.Webhook.DisableAfter < 1 {
		return errors.New("webhook.disable_after: must be at least 1")
	}
	if err := c.Serve.validate(); err != nil {
		return err
	}
	switch c.UI.Notify {
	case "", "off", "bell", "osc9", "osc777":
	default:
		return fmt.Errorf("ui.notify %q: want off, bell, osc9 or osc777", c.UI.Notify)
	}
	seen := map[string]bool{}
	for i, a := range c.Accounts {
		if a.Name == "" {
			return fmt.Errorf("account #%d: name is required", i+1)
		}
		if seen[a.Name] {
			return fmt.Errorf("account %q: defined twice", a.Name)
		}
		seen[a.Name] = true
		for _, s := range []struct {
			kind string
			cfg  ServerConfig
		}{{"imap", a.IMAP}, {"smtp", a.SMTP}} {
			switch s.cfg.TLS {
			case "", "tls", "starttls", "insecure":
			default:
				return fmt.Errorf("account %q: %s.tls %q: want tls, starttls or insecure", a.Name, s.kind, s.cfg.TLS)
			}
			switch s.cfg.Auth {
			case "", "plain", "xoauth2", "oauthbearer", "oauth2":
			default:
				return fmt.Errorf("account %q: %s.auth %q: want plain, oauth2, xoauth2 or oauthbearer", a.Name, s.kind, s.cfg.Auth)
			}
		}
		if err := a.OAuth2.validate(a.UsesOAuth2()); err != nil {
			return fmt.Errorf("account %q: %w", a.Name, err)
		}
	}
	return nil
}

// validate checks the agents: a plain name each, once, with a key.
func (s ServeConfig) validate() error {
	if s.MaxSessions < 1 {
		return errors.New("serve.max_sessions: must be at least 1")
	}
	seen := map[string]bool{}
	for i, a := range s.Agents {
		if a.Name == "" || strings.Trim(a.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return fmt.Errorf("serve.agent #%d: name %q: want letters, digits, '.', '_' or '-'", i+1, a.Name)
		}
		if seen[a.Name] {
			return fmt.Errorf("serve.agent %q: defined twice", a.Name)
		}
		seen[a.Name] = true
		if len(a.Keys) == 0 && a.AuthorizedKeys == "" {
			return fmt.Errorf("serve.agent %q: give keys or authorized_keys", a.Name)
		}
	}
	return nil
}
