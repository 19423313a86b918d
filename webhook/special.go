package webhook

import "net/netip"

// addrClass is what the guard does with an address of a special range.
type addrClass int

const (
	// classForbidden: refused in every mode (the zero value, so a row
	// without a class refuses).
	classForbidden addrClass = iota
	// classPrivate: reached only with Guard.AllowPrivate.
	classPrivate
	// classPublic: globally reachable per the registry; allowed.
	classPublic
	// classEmbeds: an IPv6 form carrying IPv4 addresses; judged by them.
	classEmbeds
)

// special is one row of the special-purpose address table.
type special struct {
	prefix netip.Prefix
	name   string
	rfc    string
	class  addrClass
	// embedded returns the IPv4 addresses an address of a classEmbeds
	// range may carry.
	embedded func(netip.Addr) []netip.Addr
}

func row(prefix, name, rfc string, class addrClass) special {
	return special{prefix: netip.MustParsePrefix(prefix), name: name, rfc: rfc, class: class}
}

func embeds(prefix, name, rfc string, f func(netip.Addr) []netip.Addr) special {
	return special{prefix: netip.MustParsePrefix(prefix), name: name, rfc: rfc, class: classEmbeds, embedded: f}
}

// specialAddrs is the complete table the guard applies: every row of the
// IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890; as of
// 2025-04, with RFC 9780's dummy IPv6 prefix), multicast, the IETF-reserved
// ::/8 and the deprecated site-local prefix, and the cloud metadata
// services. The most specific matching row decides. Rows the registries
// mark globally reachable are public; every other row is forbidden except
// loopback, private-use, unique-local and "this host", which allow_private
// opens, and the IPv6 forms that carry an IPv4 address, which are judged
// by the address they carry. Addresses in no row are public.
//
// It is never modified.
var specialAddrs = []special{
	// IANA IPv4 Special-Purpose Address Registry.
	row("0.0.0.0/8", `"This network"`, "RFC 791, Section 3.2", classPrivate),
	row("0.0.0.0/32", `"This host on this network"`, "RFC 1122, Section 3.2.1.3", classPrivate),
	row("10.0.0.0/8", "Private-Use", "RFC 1918", classPrivate),
	row("100.64.0.0/10", "Shared Address Space", "RFC 6598", classForbidden),
	row("127.0.0.0/8", "Loopback", "RFC 1122, Section 3.2.1.3", classPrivate),
	row("169.254.0.0/16", "Link Local", "RFC 3927", classForbidden),
	row("172.16.0.0/12", "Private-Use", "RFC 1918", classPrivate),
	row("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890, Section 2.1", classForbidden),
	row("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", classForbidden),
	row("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", classForbidden),
	row("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", classPublic),
	row("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", classPublic),
	row("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 Section 2.2", classForbidden),
	row("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 Section 2.2", classForbidden),
	row("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", classForbidden),
	row("192.31.196.0/24", "AS112-v4", "RFC 7535", classPublic),
	row("192.52.193.0/24", "AMT", "RFC 7450", classPublic),
	row("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", classForbidden),
	row("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", classForbidden),
	row("192.168.0.0/16", "Private-Use", "RFC 1918", classPrivate),
	row("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", classPublic),
	row("198.18.0.0/15", "Benchmarking", "RFC 2544", classForbidden),
	row("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", classForbidden),
	row("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", classForbidden),
	row("240.0.0.0/4", "Reserved", "RFC 1112, Section 4", classForbidden),
	row("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 Section 7", classForbidden),
	// IPv4 multicast (its own registry).
	row("224.0.0.0/4", "Multicast", "RFC 5771", classForbidden),

	// IANA IPv6 Special-Purpose Address Registry.
	row("::1/128", "Loopback Address", "RFC 4291", classPrivate),
	row("::/128", "Unspecified Address", "RFC 4291", classPrivate),
	embeds("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", last32),
	embeds("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", last32),
	embeds("64:ff9b:1::/48", "IPv4-IPv6 Translat. (local use)", "RFC 8215", nat64Local),
	row("100::/64", "Discard-Only Address Block", "RFC 6666", classForbidden),
	row("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", classForbidden),
	row("2001::/23", "IETF Protocol Assignments", "RFC 2928", classForbidden),
	embeds("2001::/32", "TEREDO", "RFC 4380, RFC 8190", teredo),
	row("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", classPublic),
	row("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", classPublic),
	row("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", classPublic),
	row("2001:2::/48", "Benchmarking", "RFC 5180", classForbidden),
	row("2001:3::/32", "AMT", "RFC 7450", classPublic),
	row("2001:4:112::/48", "AS112-v6", "RFC 7535", classPublic),
	row("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", classForbidden),
	row("2001:20::/28", "ORCHIDv2", "RFC 7343", classPublic),
	row("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", classPublic),
	row("2001:db8::/32", "Documentation", "RFC 3849", classForbidden),
	embeds("2002::/16", "6to4", "RFC 3056", sixToFour),
	row("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", classPublic),
	row("3fff::/20", "Documentation", "RFC 9637", classForbidden),
	row("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", classForbidden),
	row("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", classPrivate),
	row("fe80::/10", "Link-Local Unicast", "RFC 4291", classForbidden),
	// Outside that registry: the rest of the IETF-reserved ::/8 (the
	// deprecated IPv4-compatible form carries an IPv4 address; the
	// IPv4-translated ::ffff:0:0:0/96 and the others are refused),
	// deprecated site-local, multicast.
	row("::/8", "Reserved by IETF", "RFC 4291", classForbidden),
	embeds("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291, Section 2.5.5.1", last32),
	row("fec0::/10", "Site-Local (deprecated)", "RFC 3879", classForbidden),
	row("ff00::/8", "Multicast", "RFC 4291", classForbidden),

	// Cloud metadata services: never, whatever allow_private says.
	row("169.254.169.254/32", "a cloud metadata service (AWS, GCP, Azure, OCI, OpenStack)", "link-local, RFC 3927", classForbidden),
	row("100.100.100.200/32", "the Alibaba Cloud metadata service", "in Shared Address Space, RFC 6598", classForbidden),
	row("168.63.129.16/32", "the Azure WireServer (metadata and agent)", "an Azure platform address", classForbidden),
	row("fd00:ec2::254/128", "the AWS instance metadata service over IPv6", "in Unique-Local space, RFC 4193", classForbidden),
}

// lookupSpecial returns the most specific row holding ip, if any.
func lookupSpecial(ip netip.Addr) (special, bool) {
	var best special
	found := false
	for _, sp := range specialAddrs {
		if sp.prefix.Contains(ip) && (!found || sp.prefix.Bits() > best.prefix.Bits()) {
			best, found = sp, true
		}
	}
	return best, found
}

func v4(b0, b1, b2, b3 byte) netip.Addr { return netip.AddrFrom4([4]byte{b0, b1, b2, b3}) }

// last32 is the IPv4 address in the last 32 bits (IPv4-mapped,
// IPv4-compatible, the well-known NAT64 prefix 64:ff9b::/96).
func last32(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	return []netip.Addr{v4(b[12], b[13], b[14], b[15])}
}

// sixToFour is the IPv4 address in bits 16–47 of a 6to4 address
// (2002:AABB:CCDD::/48).
func sixToFour(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	return []netip.Addr{v4(b[2], b[3], b[4], b[5])}
}

// teredo returns the Teredo server (bits 32–63) and the client's public
// address (the last 32 bits, inverted), RFC 4380 Section 4.
func teredo(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	return []netip.Addr{v4(b[4], b[5], b[6], b[7]), v4(^b[12], ^b[13], ^b[14], ^b[15])}
}

// nat64Local returns the IPv4 addresses an address of the local-use NAT64
// prefix may carry: the operator picks the prefix length inside
// 64:ff9b:1::/48, so every RFC 6052 Section 2.2 layout that fits (/48, /56,
// /64, /96; bits 64–71 are the reserved u octet) is checked. A layout that
// reads an address in 0.0.0.0/8 is skipped (the zero bits of another
// layout; no NAT64 translates to "this network"), unless every one does.
func nat64Local(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	all := []netip.Addr{
		v4(b[12], b[13], b[14], b[15]),
		v4(b[6], b[7], b[9], b[10]),
		v4(b[7], b[9], b[10], b[11]),
		v4(b[9], b[10], b[11], b[12]),
	}
	out := all[:0:0]
	for _, a := range all {
		if a.As4()[0] != 0 {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return all[:1]
	}
	return out
}
