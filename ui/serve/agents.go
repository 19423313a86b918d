package serve

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Agent is one person of the team: the name their actions are recorded
// under (human:<name>) and the public keys that log in as them.
type Agent struct {
	Name string
	Keys []gossh.PublicKey
}

// ParseAgent builds an Agent from keys in authorized_keys format and,
// when authorizedKeys is set, the keys of that file. It fails on a key
// that does not parse (naming where) or when no key is given.
func ParseAgent(name string, keys []string, authorizedKeys string) (Agent, error) {
	a := Agent{Name: name}
	for i, k := range keys {
		pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(k))
		if err != nil {
			return a, fmt.Errorf("agent %s: key #%d: %w", name, i+1, err)
		}
		a.Keys = append(a.Keys, pk)
	}
	if authorizedKeys != "" {
		b, err := os.ReadFile(authorizedKeys)
		if err != nil {
			return a, fmt.Errorf("agent %s: %w", name, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
			if err != nil {
				return a, fmt.Errorf("agent %s: %s line %d: %w", name, authorizedKeys, n, err)
			}
			a.Keys = append(a.Keys, pk)
		}
	}
	if len(a.Keys) == 0 {
		return a, fmt.Errorf("agent %s: no public key", name)
	}
	return a, nil
}

// find returns the agent a key belongs to.
func find(agents []Agent, key gossh.PublicKey) (string, bool) {
	k := key.Marshal()
	for _, a := range agents {
		for _, ak := range a.Keys {
			if bytes.Equal(ak.Marshal(), k) {
				return a.Name, true
			}
		}
	}
	return "", false
}

// limiter counts failed logins per remote address: past limit failures
// within window, the address is refused at connect until the window
// passes (a key-guessing client slows to a crawl).
type limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

func hostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return h
}

// fail records a failed attempt from addr.
func (l *limiter) fail(addr net.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := hostOf(addr)
	l.fails[h] = append(l.recent(h), l.now())
}

// blocked reports whether addr has failed too often lately.
func (l *limiter) blocked(addr net.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := hostOf(addr)
	r := l.recent(h)
	if len(r) == 0 {
		delete(l.fails, h)
	} else {
		l.fails[h] = r
	}
	return len(r) >= l.limit
}

// recent returns h's failures within the window. Called with mu held.
func (l *limiter) recent(h string) []time.Time {
	cut := l.now().Add(-l.window)
	fs := l.fails[h]
	i := 0
	for i < len(fs) && fs[i].Before(cut) {
		i++
	}
	return fs[i:]
}
