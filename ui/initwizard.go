package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"smista/app/config"
)

// Wizard holds the questions of "smista init" and the answers so far. The
// Bubble Tea form (InitForm) and the plain prompts (RunPrompts) ask the
// same questions in the same order; Setup turns the answers into a
// configuration.
type Wizard struct {
	// Recognise finds the provider of an address (config.Recognise with a
	// resolver); it runs once, after the address is given.
	Recognise func(ctx context.Context, address string) (config.Provider, string, error)
	// ConfigPath is where the config will be written; ConfigExists says a
	// file is there already (the last question then asks to replace it).
	ConfigPath   string
	ConfigExists bool

	answers  map[string]string
	provider config.Provider
	how      string
}

// question is one step: its key in the answers, the prompt, a default
// computed from earlier answers, when to skip it, and a check.
type question struct {
	key, prompt string
	def         func(w *Wizard) string
	skip        func(w *Wizard) bool
	check       func(v string) error
}

func (w *Wizard) get(key string) string { return w.answers[key] }

func (w *Wizard) oauth() bool { return w.get("auth") == "oauth2" }

// questions lists every step. Long: it is the list, one entry per step.
func (w *Wizard) questions() []question {
	none := func(*Wizard) string { return "" }
	return []question{
		{key: "address", prompt: "Your email address", def: none, check: func(v string) error {
			if !strings.Contains(v, "@") || strings.HasSuffix(v, "@") {
				return errors.New("want name@domain")
			}
			return nil
		}},
		{key: "account", prompt: "A short name for this account", def: func(w *Wizard) string { return config.AccountName(w.get("address")) }},
		{key: "name", prompt: "Your name, as replies show it (optional)", def: none},
		{key: "imap", prompt: "IMAP server (host:port tls|starttls)", def: func(w *Wizard) string { return serverString(w.provider.IMAP) }, check: checkServer},
		{key: "smtp", prompt: "SMTP server (host:port tls|starttls)", def: func(w *Wizard) string { return serverString(w.provider.SMTP) }, check: checkServer},
		{key: "username", prompt: "Login name", def: func(w *Wizard) string { return w.get("address") }},
		{key: "auth", prompt: "Sign in with password or oauth2", def: func(w *Wizard) string { return orDefault(w.provider.Auth, "password") },
			check: oneOf("password", "oauth2")},
		{key: "password", prompt: "Password source: a command (pass show mail/work) or $VARIABLE", def: none,
			skip: (*Wizard).oauth, check: required},
		{key: "client_id", prompt: "Your OAuth2 client id", def: none, skip: func(w *Wizard) bool { return !w.oauth() }, check: required},
		{key: "client_secret", prompt: "Client secret source: a command, or file:PATH (empty if none)", def: none,
			skip: func(w *Wizard) bool { return !w.oauth() }},
		{key: "flow", prompt: "Sign in through a browser here, or a device code", def: func(*Wizard) string { return "browser" },
			skip: func(w *Wizard) bool { return !w.oauth() }, check: oneOf("browser", "device")},
		{key: "triage", prompt: "Triage with offline, openai, anthropic or ollama", def: func(*Wizard) string { return "offline" },
			check: oneOf("offline", "openai", "anthropic", "ollama")},
		{key: "model", prompt: "Model name", def: func(w *Wizard) string { return defaultModel(w.get("triage")) },
			skip: func(w *Wizard) bool { return w.get("triage") == "offline" }, check: required},
		{key: "api_key_env", prompt: "Environment variable holding the API key", def: func(w *Wizard) string {
			return config.TriageConfig{Provider: w.get("triage")}.KeyEnv()
		}, skip: func(w *Wizard) bool { t := w.get("triage"); return t == "offline" || t == "ollama" }},
		{key: "endpoint", prompt: "Webhook endpoint URL for tickets (optional; a test event goes at once)", def: none},
		{key: "write", prompt: "", def: func(w *Wizard) string {
			if w.ConfigExists {
				return "no"
			}
			return "yes"
		}, check: oneOf("yes", "no", "y", "n")},
	}
}

// prompt returns q's prompt; the last one names the file.
func (w *Wizard) prompt(q question) string {
	if q.key != "write" {
		return q.prompt
	}
	if w.ConfigExists {
		return w.ConfigPath + " exists. Replace it (yes/no)"
	}
	return "Write " + w.ConfigPath + " (yes/no)"
}

func required(v string) error {
	if v == "" {
		return errors.New("an answer is needed")
	}
	return nil
}

func oneOf(opts ...string) func(string) error {
	return func(v string) error {
		for _, o := range opts {
			if v == o {
				return nil
			}
		}
		return fmt.Errorf("want one of: %s", strings.Join(opts, ", "))
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func defaultModel(provider string) string {
	switch provider {
	case "openai":
		return "gpt-4o-mini"
	case "anthropic":
		return "claude-3-5-haiku-latest"
	case "ollama":
		return "llama3.1"
	}
	return ""
}

func serverString(s config.ServerDefaults) string {
	if s.Host == "" {
		return ""
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) + " " + orDefault(s.TLS, "tls")
}

func checkServer(v string) error {
	_, err := config.ParseServer(v)
	return err
}

// value returns the answer v stands for (the default when v is empty),
// or why it is not acceptable. It does no I/O.
func (w *Wizard) value(q question, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		v = q.def(w)
	}
	if q.check != nil {
		if err := q.check(v); err != nil {
			return "", err
		}
	}
	return v, nil
}

// set stores an accepted answer (and, for the address, its provider).
func (w *Wizard) set(key, v string, p config.Provider, how string) {
	if w.answers == nil {
		w.answers = map[string]string{}
	}
	w.answers[key] = v
	if key == "address" {
		w.provider, w.how = p, how
	}
}

// recognise looks the address's provider up (I/O: DNS).
func (w *Wizard) recognise(ctx context.Context, address string) (config.Provider, string, error) {
	if w.Recognise == nil {
		return config.Provider{}, "", nil
	}
	return w.Recognise(ctx, address)
}

// answer checks and stores v for q, recognising the provider after the
// address.
func (w *Wizard) answer(ctx context.Context, q question, v string) error {
	v, err := w.value(q, v)
	if err != nil {
		return err
	}
	var p config.Provider
	var how string
	if q.key == "address" {
		if p, how, err = w.recognise(ctx, v); err != nil {
			return err
		}
	}
	w.set(q.key, v, p, how)
	return nil
}

// next returns the index of the first question from i on that is not
// skipped, or -1 when none is left.
func (w *Wizard) next(qs []question, i int) int {
	for ; i < len(qs); i++ {
		if qs[i].skip == nil || !qs[i].skip(w) {
			return i
		}
	}
	return -1
}

// Recognised says which provider the address led to and how, once known.
func (w *Wizard) Recognised() string {
	if w.provider.Name == "" {
		return ""
	}
	s := w.provider.Name + " (" + w.how + ")"
	if w.provider.Note != "" {
		s += ": " + w.provider.Note
	}
	return s
}

// InitAnswers is what the wizard yields.
type InitAnswers struct {
	Setup    config.Setup
	Endpoint string
	// Write is false when the user declined to write (or replace) the file.
	Write bool
}

// Answers turns the answers into a setup.
func (w *Wizard) Answers() InitAnswers {
	imap, _ := config.ParseServer(w.get("imap"))
	smtp, _ := config.ParseServer(w.get("smtp"))
	s := config.Setup{
		Account: w.get("account"), Address: w.get("address"), Name: w.get("name"),
		Provider: w.provider.ID, IMAP: imap, SMTP: smtp, Username: w.get("username"),
		Auth: w.get("auth"), TriageProvider: w.get("triage"),
	}
	if pw := w.get("password"); strings.HasPrefix(pw, "$") {
		s.PasswordEnv = strings.TrimPrefix(pw, "$")
	} else {
		s.PasswordCmd = pw
	}
	if s.Auth == "oauth2" {
		s.OAuth2 = config.OAuth2Config{ClientID: w.get("client_id"), Flow: w.get("flow")}
		if cs := w.get("client_secret"); strings.HasPrefix(cs, "file:") {
			s.OAuth2.ClientSecretFile = strings.TrimPrefix(cs, "file:")
		} else {
			s.OAuth2.ClientSecretCmd = cs
		}
	}
	if s.TriageProvider != "offline" {
		s.Model, s.APIKeyEnv = w.get("model"), w.get("api_key_env")
	}
	write := w.get("write")
	return InitAnswers{Setup: s, Endpoint: w.get("endpoint"), Write: write == "yes" || write == "y"}
}
