package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"smista/webhook"
)

// verdict is what the guard must answer for an address.
type verdict int

const (
	public    verdict = iota // allowed in both modes
	private                  // allowed only with allow_private
	forbidden                // refused in both modes
)

// guardCases lists an address of every special-purpose range of the IANA
// IPv4 and IPv6 registries (both ends of a range where it has room), the
// cloud metadata addresses, and each IPv6 form that carries an IPv4
// address, with the verdict. It is written out by hand, independently of
// the guard's own table.
var guardCases = map[string]struct {
	addr string
	want verdict
}{
	// Ordinary addresses.
	"public v4":             {"93.184.216.34", public},
	"public v6":             {"2606:2800:220:1:248:1893:25c8:1946", public},
	"just below 100.64/10":  {"100.63.255.255", public},
	"just above 100.64/10":  {"100.128.0.0", public},
	"just below 198.18/15":  {"198.17.255.255", public},
	"just above 198.18/15":  {"198.20.0.0", public},
	"just below 172.16/12":  {"172.15.255.255", public},
	"just above 172.16/12":  {"172.32.0.0", public},
	"just below 240/4":      {"223.255.255.255", public},
	"public v6 near 2001::": {"2001:200::1", public},

	// IPv4 Special-Purpose Address Registry.
	"this network 0/8":            {"0.1.2.3", private},
	"this host 0.0.0.0":           {"0.0.0.0", private},
	"private 10/8 first":          {"10.0.0.1", private},
	"private 10/8 last":           {"10.255.255.254", private},
	"shared address space first":  {"100.64.0.1", forbidden},
	"shared address space last":   {"100.127.255.254", forbidden},
	"loopback 127/8":              {"127.0.0.1", private},
	"loopback 127/8 last":         {"127.255.255.254", private},
	"link local first":            {"169.254.0.1", forbidden},
	"link local last":             {"169.254.255.254", forbidden},
	"private 172.16/12 first":     {"172.16.0.1", private},
	"private 172.16/12 last":      {"172.31.255.254", private},
	"ietf protocol assignments":   {"192.0.0.100", forbidden},
	"service continuity prefix":   {"192.0.0.1", forbidden},
	"ipv4 dummy address":          {"192.0.0.8", forbidden},
	"pcp anycast (global)":        {"192.0.0.9", public},
	"turn anycast (global)":       {"192.0.0.10", public},
	"nat64/dns64 discovery .170":  {"192.0.0.170", forbidden},
	"nat64/dns64 discovery .171":  {"192.0.0.171", forbidden},
	"test-net-1":                  {"192.0.2.1", forbidden},
	"as112-v4 (global)":           {"192.31.196.1", public},
	"amt (global)":                {"192.52.193.1", public},
	"deprecated 6to4 relay":       {"192.88.99.1", forbidden},
	"6a44 relay anycast":          {"192.88.99.2", forbidden},
	"private 192.168/16 first":    {"192.168.0.1", private},
	"private 192.168/16 last":     {"192.168.255.254", private},
	"direct delegation as112 v4":  {"192.175.48.1", public},
	"benchmarking first":          {"198.18.0.1", forbidden},
	"benchmarking last":           {"198.19.255.254", forbidden},
	"test-net-2":                  {"198.51.100.1", forbidden},
	"test-net-3":                  {"203.0.113.1", forbidden},
	"reserved 240/4":              {"240.0.0.1", forbidden},
	"reserved 240/4 last":         {"255.255.255.254", forbidden},
	"limited broadcast":           {"255.255.255.255", forbidden},
	"multicast v4":                {"224.0.0.251", forbidden},
	"multicast v4 last":           {"239.255.255.250", forbidden},
	"aws/gcp/azure metadata":      {"169.254.169.254", forbidden},
	"alibaba metadata":            {"100.100.100.200", forbidden},
	"azure wireserver":            {"168.63.129.16", forbidden},
	"next to azure wireserver":    {"168.63.129.17", public},
	"aws ipv6 metadata":           {"fd00:ec2::254", forbidden},
	"next to aws ipv6 metadata":   {"fd00:ec2::253", private},
	"ipv6 loopback":               {"::1", private},
	"ipv6 unspecified":            {"::", private},
	"discard-only":                {"100::1", forbidden},
	"dummy ipv6 prefix":           {"100:0:0:1::1", forbidden},
	"ietf protocol assignments 6": {"2001:100::1", forbidden},
	"teredo all zero":             {"2001::1", forbidden},
	"ietf assignments /23 end":    {"2001:1ff::1", forbidden},
	"pcp anycast v6 (global)":     {"2001:1::1", public},
	"turn anycast v6 (global)":    {"2001:1::2", public},
	"dns-sd srp anycast (global)": {"2001:1::3", public},
	"next to the anycasts":        {"2001:1::4", forbidden},
	"benchmarking v6":             {"2001:2::1", forbidden},
	"amt v6 (global)":             {"2001:3::1", public},
	"as112-v6 (global)":           {"2001:4:112::1", public},
	"deprecated orchid":           {"2001:10::1", forbidden},
	"orchidv2 (global)":           {"2001:20::1", public},
	"drone remote id (global)":    {"2001:30::1", public},
	"documentation 2001:db8":      {"2001:db8::1", forbidden},
	"direct delegation as112 v6":  {"2620:4f:8000::1", public},
	"documentation 3fff::/20":     {"3fff:fff::1", forbidden},
	"srv6 sids":                   {"5f00::1", forbidden},
	"unique local fc00":           {"fc00::1", private},
	"unique local fd":             {"fdff:ffff::1", private},
	"link local v6":               {"fe80::1", forbidden},
	"link local v6 with zone":     {"fe80::1%eth0", forbidden},
	"link local v6 last":          {"febf:ffff::1", forbidden},
	"site local (deprecated)":     {"fec0::1", forbidden},
	"multicast v6":                {"ff02::1", forbidden},
	"ietf reserved ::/8":          {"::1:0:0:1", forbidden},
	"ipv4-translated (::/8)":      {"::ffff:0:a9fe:a9fe", forbidden},

	// IPv6 forms carrying an IPv4 address.
	"mapped public":              {"::ffff:93.184.216.34", public},
	"mapped loopback":            {"::ffff:127.0.0.1", private},
	"mapped metadata":            {"::ffff:169.254.169.254", forbidden},
	"mapped alibaba":             {"::ffff:100.100.100.200", forbidden},
	"compatible public":          {"::93.184.216.34", public},
	"compatible metadata":        {"::169.254.169.254", forbidden},
	"compatible private":         {"::10.0.0.1", private},
	"compatible shared space":    {"::100.64.0.1", forbidden},
	"nat64 public":               {"64:ff9b::93.184.216.34", public},
	"nat64 metadata":             {"64:ff9b::a9fe:a9fe", forbidden},
	"nat64 wireserver":           {"64:ff9b::168.63.129.16", forbidden},
	"nat64 private":              {"64:ff9b::192.168.1.1", private},
	"nat64 broadcast":            {"64:ff9b::255.255.255.255", forbidden},
	"nat64 local /96 public":     {"64:ff9b:1::93.184.216.34", public},
	"nat64 local /96 metadata":   {"64:ff9b:1::169.254.169.254", forbidden},
	"nat64 local /48 metadata":   {"64:ff9b:1:a9fe:a9:fe00::", forbidden},
	"nat64 local /64 metadata":   {"64:ff9b:1:0:a9:fea9:fe00:0", forbidden},
	"nat64 local /48 loopback":   {"64:ff9b:1:7f00:1::", private},
	"nat64 local all zero":       {"64:ff9b:1::", private},
	"6to4 public":                {"2002:5db8:d822::1", public},
	"6to4 metadata":              {"2002:a9fe:a9fe::1", forbidden},
	"6to4 private":               {"2002:c0a8:101::1", private},
	"6to4 benchmarking":          {"2002:c612:1::1", forbidden},
	"teredo public both":         {"2001:0:5db8:d822:0:0:a247:27dd", public},
	"teredo server metadata":     {"2001:0:a9fe:a9fe::a247:27dd", forbidden},
	"teredo client metadata":     {"2001:0:5db8:d822::5601:5601", forbidden},
	"teredo client private":      {"2001:0:5db8:d822::f5ff:fffe", private},
	"teredo server loopback":     {"2001:0:7f00:1::a247:27dd", private},
	"teredo client alibaba":      {"2001:0:5db8:d822::9b9b:9b37", forbidden},
	"mapped form of a 6to4 ipv4": {"::ffff:192.88.99.1", forbidden},
}

// checkVerdict compares err with want in one mode.
func checkVerdict(t *testing.T, where string, allowPrivate bool, want verdict, err error) {
	t.Helper()
	var wantErr error
	switch {
	case want == forbidden:
		wantErr = webhook.ErrForbiddenAddr
	case want == private && !allowPrivate:
		wantErr = webhook.ErrPrivateAddr
	}
	if wantErr == nil {
		if err != nil {
			t.Errorf("%s, allow_private=%v: refused (%v), want allowed", where, allowPrivate, err)
		}
		return
	}
	if !errors.Is(err, wantErr) {
		t.Errorf("%s, allow_private=%v: %v, want %v", where, allowPrivate, err, wantErr)
	}
}

// TestGuardSpecialPurposeTable checks every special-purpose range in both
// modes, at add time (CheckURL with the address in the URL, and with a
// host name a real DNS server on 127.0.0.1 resolves to it) and at dial
// time (the dialer's Control sees the address).
func TestGuardSpecialPurposeTable(t *testing.T) {
	dns := startDNS(t)
	resolver := dns.resolver()
	ctx := context.Background()
	for name, tc := range guardCases {
		t.Run(name, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.addr)
			host := strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
					return r
				}
				return '-'
			}, name)
			host = strings.Trim(strings.Join(strings.FieldsFunc(host, func(r rune) bool { return r == '-' }), "-"), "-") + ".smista.test"
			dns.set(host, ip.WithZone(""))
			for _, allow := range []bool{true, false} {
				g := webhook.Guard{AllowPrivate: allow}
				checkVerdict(t, "CheckAddr", allow, tc.want, g.CheckAddr(ip))
				literal := ip.String()
				if ip.Is6() {
					literal = "[" + strings.ReplaceAll(literal, "%", "%25") + "]"
				}
				_, err := g.CheckURL(ctx, nil, "https://"+literal+":8443/hook")
				checkVerdict(t, "CheckURL literal", allow, tc.want, err)
				if ip.Zone() == "" {
					_, err = g.CheckURL(ctx, resolver, "https://"+host+"/hook")
					checkVerdict(t, "CheckURL via DNS", allow, tc.want, err)
				}
				network := "tcp4"
				if ip.Is6() {
					network = "tcp6"
				}
				err = g.Control(network, netip.AddrPortFrom(ip, 443).String(), nil)
				checkVerdict(t, "Control at dial time", allow, tc.want, err)
			}
		})
	}
}

// TestGuardNamesTheRange: a refusal says which range and which address
// carried it, so a user can tell a typo from an attack.
func TestGuardNamesTheRange(t *testing.T) {
	tests := map[string]struct{ addr, want string }{
		"shared space": {"100.64.0.1", "100.64.0.1 is Shared Address Space (RFC 6598)"},
		"metadata":     {"100.100.100.200", "Alibaba"},
		"nat64":        {"64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe carries an IPv4 address (IPv4-IPv6 Translat., RFC 6052): 169.254.169.254 is a cloud metadata service"},
		"private":      {"10.0.0.1", "10.0.0.1 is Private-Use (RFC 1918)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := webhook.Guard{}.CheckAddr(netip.MustParseAddr(tc.addr))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckAddr(%s) = %v, want it to say %q", tc.addr, err, tc.want)
			}
		})
	}
}

// fakeDNS is a real DNS server on 127.0.0.1 (UDP) answering A and AAAA
// queries from a table.
type fakeDNS struct {
	pc    net.PacketConn
	mu    sync.Mutex
	hosts map[string]netip.Addr
}

func startDNS(tb testing.TB) *fakeDNS {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	d := &fakeDNS{pc: pc, hosts: map[string]netip.Addr{}}
	var wg sync.WaitGroup
	wg.Go(d.serve)
	tb.Cleanup(func() { pc.Close(); wg.Wait() })
	return d
}

func (d *fakeDNS) set(host string, ip netip.Addr) {
	d.mu.Lock()
	d.hosts[strings.ToLower(host)+"."] = ip
	d.mu.Unlock()
}

func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", d.pc.LocalAddr().String())
	}}
}

func (d *fakeDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, err := d.answer(buf[:n]); err == nil {
			d.pc.WriteTo(out, from)
		}
	}
}

func (d *fakeDNS) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	ip, ok := d.hosts[strings.ToLower(q.Name.String())]
	d.mu.Unlock()
	rcode := dnsmessage.RCodeSuccess
	if !ok {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: rcode})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	switch {
	case ok && q.Type == dnsmessage.TypeA && ip.Is4():
		if err := b.AResource(rh, dnsmessage.AResource{A: ip.As4()}); err != nil {
			return nil, err
		}
	case ok && q.Type == dnsmessage.TypeAAAA && ip.Is6():
		if err := b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: ip.As16()}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}
