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
	ErrBadURL         = errors.New("endpoint URL must be an absolute http:// or https:// URL with a host")
	ErrForbiddenAddr  = errors.New("address is link-local or a cloud metadata service")
	ErrPrivateAddr    = errors.New("address is loopback or private (allow_private = false)")
	ErrNoAddress      = errors.New("host has no address")
	metadataV6        = netip.MustParseAddr("fd00:ec2::254")
	unspecifiedPrefix = netip.MustParsePrefix("0.0.0.0/8")
)

// Guard decides which resolved addresses an endpoint may reach. Link-local
// (169.254.0.0/16, fe80::/10), multicast and cloud metadata addresses are
// always refused; loopback and private ranges only when AllowPrivate is
// false. The same check runs at dial time, so DNS rebinding between the
// check at "endpoints add" and a delivery cannot bypass it.
type Guard struct {
	AllowPrivate bool
}

// CheckAddr returns ErrForbiddenAddr or ErrPrivateAddr (wrapped with the
// address) when ip may not be reached, nil otherwise.
func (g Guard) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return fmt.Errorf("%w: invalid address", ErrForbiddenAddr)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(),
		ip.IsMulticast(), ip == metadataV6:
		return fmt.Errorf("%s: %w", ip, ErrForbiddenAddr)
	case ip.IsLoopback(), ip.IsPrivate(), ip.IsUnspecified(), unspecifiedPrefix.Contains(ip):
		if !g.AllowPrivate {
			return fmt.Errorf("%s: %w", ip, ErrPrivateAddr)
		}
	}
	return nil
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
			return "", fmt.Errorf("%s: %w", host, err)
		}
	}
	return u.String(), nil
}
