package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// ErrExists is returned by WriteFile when the file exists and replacing it
// was not asked for.
var ErrExists = errors.New("a config file already exists")

// Setup holds the answers of "smista init": one account, how it signs
// in, and the triage provider. It never holds a secret, only where one
// comes from.
type Setup struct {
	Account string // the account's name in the config ("work")
	Address string // the mailbox address
	Name    string // the display name of the From header
	// Provider is the table's provider id ("gmail", "generic"...).
	Provider string
	IMAP     ServerDefaults
	SMTP     ServerDefaults
	Username string
	// Auth is "password" or "oauth2".
	Auth        string
	PasswordCmd string
	PasswordEnv string
	OAuth2      OAuth2Config

	TriageProvider string // offline | openai | anthropic | ollama
	Model          string
	APIKeyEnv      string
	BaseURL        string
}

// Render returns the commented config file for s, checked by parsing it
// back: what it writes loads.
func Render(s Setup, now time.Time) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if s.Auth == "oauth2" && s.OAuth2.Provider == "" && s.Provider != "generic" {
		if p, ok := ProviderByID(s.Provider); ok && p.OAuth2.TokenURL != "" {
			s.OAuth2.Provider = s.Provider
		}
	}
	if s.TriageProvider == "" {
		s.TriageProvider = "offline"
	}
	var buf bytes.Buffer
	t := template.Must(template.New("config").Funcs(template.FuncMap{"q": quote}).Parse(configTemplate))
	data := struct {
		Setup
		Date     string
		From     string
		Provider string
	}{Setup: s, Date: now.Format("2006-01-02")}
	data.From = s.Address
	if s.Name != "" {
		data.From = s.Name + " <" + s.Address + ">"
	}
	if p, ok := ProviderByID(s.Provider); ok {
		data.Provider = p.Name
	}
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	cfg := Default()
	if err := Parse(buf.Bytes(), &cfg); err != nil {
		return nil, fmt.Errorf("render config: the result does not load: %w", err)
	}
	return buf.Bytes(), nil
}

// check names the first missing answer.
func (s Setup) check() error {
	switch {
	case s.Account == "":
		return errors.New("setup: the account needs a name")
	case !strings.Contains(s.Address, "@"):
		return fmt.Errorf("setup: address %q: want name@domain", s.Address)
	case s.IMAP.Host == "" || s.IMAP.Port <= 0:
		return errors.New("setup: the IMAP server needs a host and a port")
	case s.SMTP.Host == "" || s.SMTP.Port <= 0:
		return errors.New("setup: the SMTP server needs a host and a port")
	case s.Auth == "oauth2" && s.OAuth2.ClientID == "":
		return errors.New("setup: OAuth2 needs your client id (--client-id)")
	case s.Auth == "oauth2" && s.OAuth2.ClientSecretCmd == "" && s.OAuth2.ClientSecretFile == "" && needsSecret(s):
		return errors.New("setup: this provider wants your OAuth2 client secret too (--client-secret-cmd or --client-secret-file)")
	case s.Auth != "oauth2" && s.PasswordCmd == "" && s.PasswordEnv == "":
		return errors.New("setup: say where the password comes from (--password-cmd or --password-env)")
	}
	return nil
}

// needsSecret reports whether s's OAuth2 provider (Google) refuses a
// client without its secret.
func needsSecret(s Setup) bool {
	id := s.OAuth2.Provider
	if id == "" {
		id = s.Provider
	}
	p, ok := ProviderByID(id)
	return ok && p.OAuth2.NeedsSecret
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// WriteFile writes b to path with mode 0600, creating its folder (0700).
// An existing file is replaced only with overwrite, else ErrExists; the
// replacement is atomic (a temporary file renamed over it).
func WriteFile(path string, b []byte, overwrite bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if !overwrite {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("write config: %w", err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			os.Remove(path)
			return fmt.Errorf("write config: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write config: %w", err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.toml")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	// CreateTemp makes the file 0600 already; the rename keeps the mode.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

const configTemplate = `# smista configuration, written by "smista init" on {{.Date}}.
# Every key is optional; README.md (Configuration) lists them all.
# No secret is kept in this file: passwords come from password_cmd or
# password_env, OAuth2 tokens from the OS keyring or a 0600 file in the data
# directory, API keys from the environment variable api_key_env names.
# Check the whole setup with: smista doctor

[triage]
# offline needs no key and no network; openai, anthropic and ollama ask an LLM
# (the offline classifier still computes the flags).
provider = {{q .TriageProvider}}
{{- if .Model}}
model = {{q .Model}}
{{- end}}
{{- if .APIKeyEnv}}
api_key_env = {{q .APIKeyEnv}}   # the name of the variable, never the key
{{- end}}
{{- if .BaseURL}}
base_url = {{q .BaseURL}}
{{- end}}
threshold = 0.80                 # a ticket only when confidence > threshold
# vip = ["ceo@client.com", "bigclient.com"]

[[account]]
name = {{q .Account}}
from = {{q .From}}
mailboxes = ["INBOX"]
# archive = "Archive"            # where done (e) moves an email on the server
{{- if .Provider}}
# {{.Provider}}
{{- end}}

[account.imap]
host = {{q .IMAP.Host}}
port = {{.IMAP.Port}}
tls = {{q .IMAP.TLS}}                    # tls | starttls | insecure (loopback only)
username = {{q .Username}}
{{- template "auth" .}}

[account.smtp]
host = {{q .SMTP.Host}}
port = {{.SMTP.Port}}
tls = {{q .SMTP.TLS}}
username = {{q .Username}}
{{- template "auth" .}}
{{- if eq .Auth "oauth2"}}

# Your own OAuth2 client; the tokens it yields live outside this file.
# Sign in again with: smista init --reauth {{.Account}}
[account.oauth2]
{{- if .OAuth2.Provider}}
provider = {{q .OAuth2.Provider}}
{{- end}}
client_id = {{q .OAuth2.ClientID}}
{{- if .OAuth2.ClientSecretCmd}}
client_secret_cmd = {{q .OAuth2.ClientSecretCmd}}
{{- end}}
{{- if .OAuth2.ClientSecretFile}}
client_secret_file = {{q .OAuth2.ClientSecretFile}}
{{- end}}
{{- if .OAuth2.Tenant}}
tenant = {{q .OAuth2.Tenant}}
{{- end}}
flow = {{q (or .OAuth2.Flow "browser")}}           # browser (loopback redirect) | device (a code to type elsewhere)
{{- if .OAuth2.AuthURL}}
auth_url = {{q .OAuth2.AuthURL}}
{{- end}}
{{- if .OAuth2.TokenURL}}
token_url = {{q .OAuth2.TokenURL}}
{{- end}}
{{- if .OAuth2.DeviceURL}}
device_url = {{q .OAuth2.DeviceURL}}
{{- end}}
{{- end}}
{{define "auth"}}
{{- if eq .Auth "oauth2"}}
auth = "oauth2"                  # the [account.oauth2] sign-in below
{{- else if .PasswordCmd}}
password_cmd = {{q .PasswordCmd}}   # run through sh; its output is the password
{{- else}}
password_env = {{q .PasswordEnv}}   # the variable holding the password
{{- end}}
{{- end}}
`
