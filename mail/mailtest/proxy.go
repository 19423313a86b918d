package mailtest

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy forwards TCP connections from a loopback listener to a target. It
// can cut every connection after a budget of bytes flowing from the server
// (simulating Wi-Fi dropping mid-fetch) and drop all live connections.
type Proxy struct {
	// Addr is the proxy's listening host:port.
	Addr   string
	target string
	ln     net.Listener
	wg     sync.WaitGroup

	// cutAfter, when > 0, closes a connection once that many bytes came
	// from the server on it.
	cutAfter atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted atomic.Int64
}

// StartProxy listens on 127.0.0.1:0 and forwards to target.
func StartProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start proxy: %w", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// CutAfter makes every new connection close once n bytes came from the
// server (0 disables it).
func (p *Proxy) CutAfter(n int64) { p.cutAfter.Store(n) }

// Accepted returns how many client connections the proxy has accepted.
func (p *Proxy) Accepted() int { return int(p.accepted.Load()) }

// DropAll closes every live connection, both sides.
func (p *Proxy) DropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops accepting, drops live connections and waits for the
// forwarding goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.DropAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client, true)
		p.track(server, true)
		limit := p.cutAfter.Load()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(server, client)
			server.Close()
			client.Close()
		}()
		go func() {
			defer p.wg.Done()
			defer func() {
				client.Close()
				server.Close()
				p.track(client, false)
				p.track(server, false)
			}()
			if limit > 0 {
				io.CopyN(client, server, limit)
				return
			}
			io.Copy(client, server)
		}()
	}
}
