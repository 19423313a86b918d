package setup

import (
	"context"
	"errors"
	"fmt"

	"smista/app/config"
)

// ErrFlag marks an answer given as a flag of "smista init" whose value
// cannot be used; the error names the flag.
var ErrFlag = errors.New("bad flag")

// Flags are the answers of "smista init" given as flags, for scripts
// (main defines the flags).
type Flags struct {
	Address, Name, Account, Provider           string
	IMAP, SMTP, Username, Auth                 string
	PasswordCmd, PasswordEnv                   string
	ClientID, SecretCmd, SecretFile            string
	Tenant, Flow, AuthURL, TokenURL, DeviceURL string
	Triage, Model, APIKeyEnv, BaseURL          string
	// Endpoint is the webhook endpoint's URL, added with a test event.
	Endpoint string
	// Force replaces an existing configuration file.
	Force bool
	// Reauth names an account to sign in again, nothing else changing.
	Reauth string
}

// FromFlags builds the setup from f, the provider's defaults filling
// what the flags leave out; the provider found is reported as a
// Recognised step. A flag whose value cannot be used is an ErrFlag.
func (e Env) FromFlags(ctx context.Context, f Flags) (config.Setup, error) {
	p, how, err := e.Recognise(ctx, f.Address)
	if err != nil {
		return config.Setup{}, err
	}
	if f.Provider != "" {
		if p, _ = config.ProviderByID(f.Provider); p.ID == "" && f.Provider != "generic" {
			return config.Setup{}, fmt.Errorf("%w: --provider %q: want gmail, microsoft, fastmail, icloud, yahoo or generic", ErrFlag, f.Provider)
		}
		how = "--provider"
	}
	e.report(Recognised{Provider: or(p.Name, "generic IMAP/SMTP"), How: how})
	s := config.Setup{Address: f.Address, Name: f.Name, Account: or(f.Account, config.AccountName(f.Address)),
		Provider: p.ID, IMAP: p.IMAP, SMTP: p.SMTP, Username: or(f.Username, f.Address),
		Auth: or(f.Auth, or(p.Auth, "password")), PasswordCmd: f.PasswordCmd, PasswordEnv: f.PasswordEnv,
		TriageProvider: f.Triage, Model: f.Model, APIKeyEnv: f.APIKeyEnv, BaseURL: f.BaseURL}
	for _, sv := range []struct {
		flag, v string
		dst     *config.ServerDefaults
	}{{"--imap", f.IMAP, &s.IMAP}, {"--smtp", f.SMTP, &s.SMTP}} {
		if sv.v == "" {
			continue
		}
		if *sv.dst, err = config.ParseServer(sv.v); err != nil {
			return config.Setup{}, fmt.Errorf("%w: %s %q: %v", ErrFlag, sv.flag, sv.v, err)
		}
	}
	if s.Auth == "oauth2" {
		s.OAuth2 = config.OAuth2Config{ClientID: f.ClientID, ClientSecretCmd: f.SecretCmd, ClientSecretFile: f.SecretFile,
			Tenant: f.Tenant, Flow: f.Flow, AuthURL: f.AuthURL, TokenURL: f.TokenURL, DeviceURL: f.DeviceURL}
	}
	return s, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
