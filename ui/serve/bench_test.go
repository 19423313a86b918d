package serve_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"smista/db"
	"smista/ui/internal/fixture"
)

// BenchmarkServeSessions runs the real "smista serve" on a 100,000-message
// store (SMISTA_BENCH_STORE, or one seeded here: ~15 s) and drives 1 and 20
// concurrent SSH sessions (golang.org/x/crypto/ssh clients in this
// process). One iteration is one keypress ("j"/"k" in the inbox) in every
// session at once; it reports, over all keypresses, the time from the key
// written to the first byte of the new frame read (p50, p99), and the
// server's resident memory per session: (RSS with the sessions open −
// RSS before them) / sessions. Run with -benchtime=200x.
func BenchmarkServeSessions(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the binary and a 100k store")
	}
	store := os.Getenv("SMISTA_BENCH_STORE")
	if store == "" {
		store = filepath.Join(b.TempDir(), "100k.db")
		d, err := db.Open(context.Background(), store)
		if err != nil {
			b.Fatal(err)
		}
		if err := fixture.Seed(context.Background(), d); err == nil {
			err = fixture.SeedBulk(context.Background(), d, 100_000)
		}
		d.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	bin := filepath.Join(b.TempDir(), "smista")
	if out, err := exec.Command("go", "build", "-o", bin, "smista").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) { benchSessions(b, bin, store, n) })
	}
}

// server is a "smista serve" process.
type server struct {
	cmd  *exec.Cmd
	addr string
	keys []gossh.Signer
}

func startBinary(b *testing.B, bin, store string, agents int) *server {
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("[serve]\nlisten = \"127.0.0.1:0\"\nmax_sessions = 64\nhost_key = \"" + filepath.Join(dir, "host") + "\"\n")
	s := &server{}
	for i := range agents {
		k, line := newSigner(&testing.T{})
		s.keys = append(s.keys, k)
		fmt.Fprintf(&cfg, "[[serve.agent]]\nname = \"agent%d\"\nkeys = [%q]\n", i, strings.TrimSpace(line))
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	s.cmd = exec.Command(bin, "--config", filepath.Join(dir, "config.toml"), "--db", store, "serve")
	s.cmd.Env = append(os.Environ(), "HOME="+dir)
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		_ = s.cmd.Wait()
		pw.Close()
	})
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var all []byte
		for {
			n, err := pr.Read(buf)
			all = append(all, buf[:n]...)
			if i := bytes.Index(all, []byte("listening on ")); i >= 0 && found != nil {
				rest := string(all[i+len("listening on "):])
				if j := strings.IndexByte(rest, ' '); j > 0 {
					found <- rest[:j]
					found = nil
				}
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case s.addr = <-found:
	case <-time.After(30 * time.Second):
		b.Fatal("smista serve did not start")
	}
	return s
}

// rss returns the server's resident memory in bytes.
func (s *server) rss(b *testing.B) float64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(st), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// client is one session: its stdin and the times its output arrived.
type client struct {
	in    io.Writer
	reads chan time.Time
	mu    sync.Mutex
	out   bytes.Buffer
}

func dialSession(b *testing.B, addr string, key gossh.Signer) *client {
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		b.Fatal(err)
	}
	cl := &client{reads: make(chan time.Time, 1024)}
	if cl.in, err = s.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := out.Read(buf)
			t := time.Now()
			cl.mu.Lock()
			if cl.out.Len() < 1<<20 {
				cl.out.Write(buf[:n])
			}
			cl.mu.Unlock()
			select {
			case cl.reads <- t:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	if err := s.Shell(); err != nil {
		b.Fatal(err)
	}
	return cl
}

// drain forgets the reads so far and waits until the output is quiet.
func (cl *client) drain(quiet time.Duration) {
	for {
		select {
		case <-cl.reads:
		case <-time.After(quiet):
			return
		}
	}
}

func benchSessions(b *testing.B, bin, store string, n int) {
	srv := startBinary(b, bin, store, n)
	time.Sleep(500 * time.Millisecond) // the App's start-up work settles
	before := srv.rss(b)
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = dialSession(b, srv.addr, srv.keys[i])
	}
	for _, cl := range clients {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			cl.mu.Lock()
			drawn := bytes.Contains(cl.out.Bytes(), []byte("Order"))
			cl.mu.Unlock()
			if drawn {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("a session never drew the inbox")
			}
		}
		cl.drain(50 * time.Millisecond)
	}
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		k := []byte{"jk"[i%2]}
		var wg sync.WaitGroup
		for _, cl := range clients {
			wg.Go(func() {
				cl.drain(0)
				t0 := time.Now()
				if _, err := cl.in.Write(k); err != nil {
					b.Error(err)
					return
				}
				select {
				case t := <-cl.reads:
					mu.Lock()
					lat = append(lat, t.Sub(t0))
					mu.Unlock()
				case <-time.After(5 * time.Second):
					b.Error("no frame within 5 s of a keypress")
				}
				cl.drain(20 * time.Millisecond) // the rest of the frame
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	after := srv.rss(b)
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric((after-before)/float64(n)/(1<<20), "MB/session")
	b.ReportMetric(after/(1<<20), "server-RSS-MB")
}
