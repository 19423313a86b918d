package mailtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"smista/mail"
)

// ErrNoDovecot is returned by StartDovecot when the dovecot binary is not
// installed (Debian: apt-get install dovecot-imapd).
var ErrNoDovecot = errors.New("dovecot is not installed (apt-get install dovecot-imapd)")

// DovecotPassword is the password the harness's static passdb accepts for
// any user name.
const DovecotPassword = "secret"

// Dovecot is a real Dovecot IMAP server on 127.0.0.1 with a Maildir under a
// temporary directory, run in the foreground as a child process.
type Dovecot struct {
	Addr     string
	Username string
	Dir      string

	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	seq  int
	root bool
}

// DovecotBinary returns the path of the dovecot binary, or ErrNoDovecot.
func DovecotBinary() (string, error) {
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNoDovecot
}

// StartDovecot writes a config into dir (which must exist and be private to
// the caller, e.g. t.TempDir()) and starts Dovecot listening on a free
// loopback port, with one Maildir user. As root it runs the mail processes
// as the package's dovecot/dovenull users (imap-login refuses root). Close
// stops it.
func StartDovecot(ctx context.Context, dir, username string) (*Dovecot, error) {
	bin, err := DovecotBinary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	d := &Dovecot{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Username: username, Dir: dir, done: make(chan struct{}), root: os.Getuid() == 0}
	for _, sub := range []string{"run", "state", "mail/" + username + "/cur", "mail/" + username + "/new", "mail/" + username + "/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("start dovecot: %w", err)
		}
	}
	conf, err := d.config(port)
	if err != nil {
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	cf := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	if d.root {
		if err := d.chownMail(); err != nil {
			return nil, fmt.Errorf("start dovecot: %w", err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, fmt.Errorf("start dovecot: %w", err)
		}
	}
	d.cmd = exec.Command(bin, "-F", "-c", cf)
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	go func() {
		d.cmd.Wait()
		close(d.done)
	}()
	// Wait (bounded) until the listener answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.Addr, time.Second)
		if err == nil {
			c.Close()
			return d, nil
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("start dovecot: exited early; log: %s", d.Log())
		case <-ctx.Done():
			d.Close()
			return nil, fmt.Errorf("start dovecot: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.Close()
			return nil, fmt.Errorf("start dovecot: not listening after 10s; log: %s", d.Log())
		}
	}
}

func (d *Dovecot) config(port int) (string, error) {
	var internalUser, internalGroup, loginUser, userdb, extra string
	if d.root {
		internalUser, internalGroup, loginUser = "dovecot", "dovecot", "dovenull"
		userdb = "uid=dovecot gid=dovecot home=" + d.Dir + "/mail/%u"
		extra = "first_valid_uid = 1\n"
	} else {
		u, err := user.Current()
		if err != nil {
			return "", err
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return "", err
		}
		internalUser, internalGroup, loginUser = u.Username, g.Name, u.Username
		userdb = "uid=" + u.Username + " gid=" + g.Name + " home=" + d.Dir + "/mail/%u"
	}
	chroot := "  chroot =\n"
	if d.root {
		chroot = ""
	}
	return fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = %[2]s
default_internal_group = %[3]s
default_login_user = %[4]s
%[5]smail_location = maildir:%[1]s/mail/%%u:LAYOUT=fs
passdb {
  driver = static
  args = password=%[8]s
}
userdb {
  driver = static
  args = %[6]s
}
service anvil {
%[7]s}
service imap-login {
%[7]s  inet_listener imap {
    address = 127.0.0.1
    port = %[9]d
  }
  inet_listener imaps {
    port = 0
  }
}
`, d.Dir, internalUser, internalGroup, loginUser, extra, userdb, chroot, DovecotPassword, port), nil
}

// Config returns a ServerConfig logging in as the harness user.
func (d *Dovecot) Config() mail.ServerConfig {
	return serverConfig(d.Addr, d.Username, DovecotPassword)
}

// Deliver writes raw messages straight into the user's Maildir (INBOX when
// mailbox is "" or "INBOX"), as a local delivery agent would: the fastest
// way to seed thousands of messages.
func (d *Dovecot) Deliver(mailbox string, raws ...[]byte) error {
	base := filepath.Join(d.Dir, "mail", d.Username)
	if mailbox != "" && mailbox != "INBOX" {
		base = filepath.Join(base, filepath.FromSlash(mailbox))
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(base, sub), 0o755); err != nil {
			return fmt.Errorf("deliver: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, raw := range raws {
		d.seq++
		sum := sha256.Sum256(raw)
		name := fmt.Sprintf("%d.M%dP%d.%s", time.Now().Unix(), d.seq, os.Getpid(), hex.EncodeToString(sum[:6]))
		tmp := filepath.Join(base, "tmp", name)
		if err := os.WriteFile(tmp, raw, 0o644); err != nil {
			return fmt.Errorf("deliver: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(base, "new", name)); err != nil {
			return fmt.Errorf("deliver: %w", err)
		}
	}
	if d.root {
		return d.chownMail()
	}
	return nil
}

// DeliverFunc writes n messages, msg(0) … msg(n-1), into the user's
// Maildir (as Deliver does) without holding them in memory: the way to
// seed a 100,000-message mailbox.
func (d *Dovecot) DeliverFunc(mailbox string, n int, msg func(i int) []byte) error {
	base := filepath.Join(d.Dir, "mail", d.Username)
	if mailbox != "" && mailbox != "INBOX" {
		base = filepath.Join(base, filepath.FromSlash(mailbox))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := WriteMaildir(base, n, msg); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if d.root {
		return d.chownMail()
	}
	return nil
}

func (d *Dovecot) chownMail() error {
	u, err := user.Lookup("dovecot")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(filepath.Join(d.Dir, "mail"), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// Log returns the end of Dovecot's log file (for failure messages).
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// Close stops Dovecot and waits for it to exit.
func (d *Dovecot) Close() error {
	if d.cmd == nil || d.cmd.Process == nil {
		return nil
	}
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
