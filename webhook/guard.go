package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Sentinel errors of endpoint URLs.
var (
	ErrBadURL        = errors.New("endpoint URL must be an absolute http:// or https:// URL with a host")
	ErrForbiddenAddr = errors.New("refused: not a public address")
	ErrPrivateAddr   = errors.New("refused: loopback or private (allow_private = false)")
	ErrNoAddress     = errors.New("host has no address")
)

// Guard decides which resolved addresses an endpoint may reach, from the
// table of special-purpose addresses in specialAddrs (the IANA IPv4 and
// IPv6 Special-Purpose Address Registries, plus multicast and the cloud
// metadata services):
//
//   - cloud metadata addresses are refused in every mode;
//   - loopback, private-use (RFC 1918), unique-local (fc00::/7) and "this
//     host" addresses are refused unless AllowPrivate is set;
//   - every other address the registries mark as not globally reachable
//     (link-local, shared address space, benchmarking, documentation,
//     reserved, broadcast, discard-only...) and multicast is refused in
//     every mode;
//   - an IPv6 address that carries an IPv4 address (IPv4-mapped,
//     IPv4-compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address
//     it carries, so no spelling of 169.254.169.254 gets through.
//
// The same check runs at dial time (Control), so DNS rebinding between the
// check at "endpoints add" and a delivery cannot bypass it.
type Guard struct {
	AllowPrivate bool
}

// CheckAddr returns ErrForbiddenAddr or ErrPrivateAddr (wrapped with the
// address and the name of its range) when ip may not be reached, nil
// otherwise.
func (g Guard) CheckAddr(ip netip.Addr) error {
	// A zone (fe80::1%eth0) would keep the address out of every prefix.
	ip = ip.WithZone("")
	if !ip.IsValid() {
		return fmt.Errorf("invalid address: %w", ErrForbiddenAddr)
	}
	sp, ok := lookupSpecial(ip)
	if !ok {
		return nil
	}
	switch sp.class {
	case classPublic:
		return nil
	case classPrivate:
		if g.AllowPrivate {
			return nil
		}
		return fmt.Errorf("%s is %s (%s): %w", ip, sp.name, sp.rfc, ErrPrivateAddr)
	case classEmbeds:
		// Every IPv4 address the form may carry must pass; a forbidden
		// one is reported before a private one.
		var refused error
		for _, v4 := range sp.embedded(ip) {
			err := g.CheckAddr(v4)
			if err != nil && (refused == nil || errors.Is(err, ErrForbiddenAddr)) {
				refused = err
			}
		}
		if refused != nil {
			return fmt.Errorf("%s carries an IPv4 address (%s, %s): %w", ip, sp.name, sp.rfc, refused)
		}
		return nil
	}
	return fmt.Errorf("%s is %s (%s): %w", ip, sp.name, sp.rfc, ErrForbiddenAddr)
}

// Control is a net.Dialer Control function enforcing CheckAddr on the
// address actually dialled (after DNS resolution).
func (g Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("guard: %w", err)
	}
	return g.CheckAddr(ap.Addr())
}

// ParseURL validates an endpoint URL's form: http or https, a host, no
// user info (credentials in a URL end up in logs). It returns ErrBadURL.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return nil, ErrBadURL
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: no user:password@ in the URL (put credentials in the receiver)", ErrBadURL)
	}
	return u, nil
}

// CheckURL validates raw with ParseURL, resolves its host with resolver
// (nil: net.DefaultResolver) and checks every address with CheckAddr. It
// returns the normalised URL.
func (g Guard) CheckURL(ctx context.Context, resolver *net.Resolver, raw string) (string, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if resolver == nil {
			resolver = net.DefaultResolver
		}
		ips, err := resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", host, err)
		}
		addrs = ips
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("%s: %w", host, ErrNoAddress)
	}
	for _, ip := range addrs {
		if err := g.CheckAddr(ip); err != nil {
			if ip.String() == host {
				return "", err // the error names the address already
			}
			return "", fmt.Errorf("%s: %w", host, err)
		}
	}
	return u.String(), nil
}
