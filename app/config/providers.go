package config

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"smista/mail"
)

//go:embed providers.toml
var providersTOML []byte

// Provider is one mail provider of the embedded table: how to recognise
// it, its servers, and how users sign in to it.
type Provider struct {
	ID      string         `toml:"id"`
	Name    string         `toml:"name"`
	Domains []string       `toml:"domains"`
	MX      []string       `toml:"mx"`
	IMAP    ServerDefaults `toml:"imap"`
	SMTP    ServerDefaults `toml:"smtp"`
	// Auth is "oauth2" or "password": what the provider wants by default.
	Auth   string         `toml:"auth"`
	Note   string         `toml:"note"`
	OAuth2 ProviderOAuth2 `toml:"oauth2"`
}

// ServerDefaults is a provider's published server.
type ServerDefaults struct {
	Host string `toml:"host"`
	Port int    `toml:"port"`
	TLS  string `toml:"tls"`
}

// ProviderOAuth2 is a provider's authorization server; {tenant} in the
// URLs is replaced by the account's tenant ("common" by default).
type ProviderOAuth2 struct {
	AuthURL     string   `toml:"auth_url"`
	TokenURL    string   `toml:"token_url"`
	DeviceURL   string   `toml:"device_url"`
	Scopes      []string `toml:"scopes"`
	NeedsSecret bool     `toml:"needs_secret"`
}

// Providers returns the embedded provider table. It panics only if the
// embedded file is broken, which its test rules out.
func Providers() []Provider {
	var t struct {
		Provider []Provider `toml:"provider"`
	}
	if err := toml.Unmarshal(providersTOML, &t); err != nil {
		panic("config: embedded providers.toml: " + err.Error())
	}
	return t.Provider
}

// ProviderByID returns the provider with id from the table.
func ProviderByID(id string) (Provider, bool) {
	for _, p := range Providers() {
		if p.ID == id {
			return p, true
		}
	}
	return Provider{}, false
}

// MXResolver looks up a domain's MX records; *net.Resolver is one.
type MXResolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// Recognise finds the provider of address: by its domain, else by the
// domain's MX records (a custom domain hosted at Google or Microsoft),
// else a generic provider with imap.DOMAIN and smtp.DOMAIN guessed. how
// says which ("domain", "MX mx.example.net", "guessed"). resolver may be
// nil (no MX lookup). It fails only on an address without a domain.
func Recognise(ctx context.Context, resolver MXResolver, address string) (p Provider, how string, err error) {
	_, domain, ok := strings.Cut(strings.TrimSpace(address), "@")
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if !ok || domain == "" || strings.ContainsAny(domain, " @/") {
		return Provider{}, "", fmt.Errorf("address %q: want name@domain", address)
	}
	table := Providers()
	for _, p := range table {
		for _, d := range p.Domains {
			if domain == d {
				return p, "domain", nil
			}
		}
	}
	if resolver != nil {
		if mxs, err := resolver.LookupMX(ctx, domain); err == nil {
			for _, mx := range mxs {
				host := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
				for _, p := range table {
					for _, suffix := range p.MX {
						if host == suffix || strings.HasSuffix(host, "."+suffix) {
							return p, "MX " + host, nil
						}
					}
				}
			}
		}
	}
	return Provider{
		ID:   "generic",
		Name: "IMAP/SMTP at " + domain,
		IMAP: ServerDefaults{Host: "imap." + domain, Port: 993, TLS: mail.TLSImplicit},
		SMTP: ServerDefaults{Host: "smtp." + domain, Port: 465, TLS: mail.TLSImplicit},
		Auth: "password",
		Note: "host names guessed from the domain: check them with your provider",
	}, "guessed", nil
}

// Endpoint returns the provider's authorization server for tenant
// ("" means "common").
func (o ProviderOAuth2) Endpoint(tenant string) mail.OAuth2Endpoint {
	if tenant == "" {
		tenant = "common"
	}
	r := strings.NewReplacer("{tenant}", tenant)
	return mail.OAuth2Endpoint{AuthURL: r.Replace(o.AuthURL), TokenURL: r.Replace(o.TokenURL),
		DeviceURL: r.Replace(o.DeviceURL), Scopes: o.Scopes}
}

// ParseServer reads "host:port tls" (the TLS mode defaults to tls; the
// others are starttls and insecure).
func ParseServer(v string) (ServerDefaults, error) {
	f := strings.Fields(v)
	if len(f) == 0 || len(f) > 2 {
		return ServerDefaults{}, errors.New("want host:port and optionally tls, starttls or insecure")
	}
	host, port, err := net.SplitHostPort(f[0])
	if err != nil {
		return ServerDefaults{}, errors.New("want host:port, e.g. imap.example.com:993")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return ServerDefaults{}, fmt.Errorf("port %q: want 1-65535", port)
	}
	s := ServerDefaults{Host: host, Port: p, TLS: "tls"}
	if len(f) == 2 {
		if mode := f[1]; mode != "tls" && mode != "starttls" && mode != "insecure" {
			return s, errors.New("want one of: tls, starttls, insecure")
		}
		s.TLS = f[1]
	}
	return s, nil
}

// AccountName is the account name proposed for address: the first label
// of its domain ("shop" for help@shop.it), or "mail".
func AccountName(address string) string {
	_, domain, _ := strings.Cut(address, "@")
	label, _, _ := strings.Cut(domain, ".")
	label = strings.ToLower(label)
	if label == "" || strings.ContainsAny(label, " '\"") {
		return "mail"
	}
	return label
}
