package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"smista/db"
	"smista/mail"
	"smista/webhook"
)

// Status is the verdict of one doctor check.
type Status string

// The verdicts, from good to bad.
const (
	StatusOK   Status = "ok"
	StatusSkip Status = "skip" // not applicable here (no SMTP server configured...)
	StatusWarn Status = "warn" // works, with a feature degraded
	StatusFail Status = "fail" // does not work: Fix says what to do
)

// Check is one line of the doctor's report.
type Check struct {
	// Name says what was checked: "config", "database", "imap work",
	// "smtp work", "llm", "endpoint ep_…", "sender lease".
	Name   string `json:"check"`
	Status Status `json:"status"`
	// Detail is what was found, on one line.
	Detail string `json:"detail"`
	// Fix is what to do when Status is warn or fail.
	Fix string `json:"fix,omitempty"`
}

// Report is the doctor's checks, in the order they ran.
type Report struct {
	Checks []Check `json:"checks"`
}

// Failed reports whether a check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			return true
		}
	}
	return false
}

// DoctorOptions is what the doctor needs beyond the App: what only the
// caller that loaded the configuration knows.
type DoctorOptions struct {
	// Config is the configuration's own line, made by whoever loaded it.
	Config Check
	// LLM describes the configured model; nil means the offline classifier.
	LLM *LLMCheck
	// SendTest sends a test event to each endpoint that passes.
	SendTest bool
	// Resolver resolves endpoint hosts (nil: net.DefaultResolver).
	Resolver *net.Resolver
	// Timeout bounds each network check (default 20 s).
	Timeout time.Duration
}

// LLMCheck describes the configured LLM provider.
type LLMCheck struct {
	Name   string // "openai/gpt-4o-mini"
	KeyEnv string // the variable holding the key ("" when none is needed)
	// KeyMissing is set when KeyEnv is named but empty or unset.
	KeyMissing bool
	// Ping asks the model for one token; nil when it could not be built
	// (BuildErr says why).
	Ping     func(ctx context.Context) error
	BuildErr error
}

// Doctor runs the checks in order — the configuration (given), the
// database, each account's IMAP and SMTP servers, the LLM provider, each
// endpoint through the address guard, the sender lease — and returns the
// report. It sends no mail, and no event unless o.SendTest; a failing
// check is a line of the report, never an error.
func (a *App) Doctor(ctx context.Context, o DoctorOptions) Report {
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	r := Report{Checks: []Check{o.Config}}
	r.Checks = append(r.Checks, a.checkDB(ctx))
	for _, acct := range a.accounts {
		r.Checks = append(r.Checks, a.checkIMAP(ctx, acct, o.Timeout), a.checkSMTP(ctx, acct, o.Timeout))
	}
	r.Checks = append(r.Checks, checkLLM(ctx, o.LLM, o.Timeout))
	r.Checks = append(r.Checks, a.checkEndpoints(ctx, o)...)
	r.Checks = append(r.Checks, a.checkLease(ctx))
	return r
}

// checkLease says which process sends for the store, if any.
func (a *App) checkLease(ctx context.Context) Check {
	c := Check{Name: "sender lease", Status: StatusOK}
	l, held, err := a.db.CurrentLease(ctx, db.LeaseSender)
	switch {
	case err != nil:
		c.Status, c.Detail, c.Fix = StatusFail, err.Error(), "check the database"
	case held:
		c.Detail = fmt.Sprintf("held by %s since %s: it sends for this store, others wait to take over",
			l.Holder, l.AcquiredAt.UTC().Format(time.RFC3339))
	case l.Owner != "":
		c.Detail = "free (last held by " + l.Holder + ", expired): the next sender takes it"
	default:
		c.Detail = "free: no process sends now; deliveries wait for the TUI, 'smista send' or 'smista serve'"
	}
	return c
}

func (a *App) checkDB(ctx context.Context) Check {
	c := Check{Name: "database"}
	in, err := a.db.Info(ctx)
	if err != nil {
		c.Status, c.Detail, c.Fix = StatusFail, err.Error(), "check the file named by --db or SMISTA_DB"
		return c
	}
	c.Status = StatusOK
	c.Detail = fmt.Sprintf("%s: schema %d of %d, %s, journal %s", in.Path, in.Version, db.SchemaVersion(), fmtSize(in.Size), in.JournalMode)
	if !strings.EqualFold(in.JournalMode, "wal") {
		c.Status, c.Fix = StatusWarn, "the file system refused WAL (a network share?): readers will block the writer; keep the store on a local disk"
	}
	return c
}

func fmtSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// degraded names what smista does without an IMAP capability.
func degraded(capability string) string {
	switch capability {
	case "IDLE":
		return "no IDLE: new mail is found by polling, not pushed"
	case "CONDSTORE":
		return "no CONDSTORE: no claim on the server, so two installations on this mailbox may both send a ticket (receivers deduplicate on webhook-id)"
	case "MOVE":
		return "no MOVE: messages are moved by copy and delete"
	case "UIDPLUS":
		return "no UIDPLUS: a reply filed in Sent is found again by search"
	}
	return "no " + capability
}

func (a *App) checkIMAP(ctx context.Context, acct mail.Account, timeout time.Duration) Check {
	c := Check{Name: "imap " + acct.Name}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	box := acct.SyncMailboxes()[0]
	p, err := mail.ProbeIMAP(ctx, acct.IMAP, box)
	if err != nil {
		c.Status, c.Detail, c.Fix = StatusFail, err.Error(), loginFix(err, acct, acct.IMAP)
		return c
	}
	c.Status = StatusOK
	c.Detail = fmt.Sprintf("%s as %s: %s", acct.IMAP.Addr(), acct.IMAP.Username, strings.Join(p.Has, " "))
	if p.Keywords {
		c.Detail += ", keywords"
	}
	var lost []string
	for _, m := range p.Missing {
		lost = append(lost, degraded(m))
	}
	if !p.Keywords {
		lost = append(lost, "no keywords in "+box+": smista cannot mark claims on the server")
	}
	if len(lost) > 0 {
		c.Status, c.Fix = StatusWarn, strings.Join(lost, "; ")
	}
	return c
}

func (a *App) checkSMTP(ctx context.Context, acct mail.Account, timeout time.Duration) Check {
	c := Check{Name: "smtp " + acct.Name}
	if acct.SMTP.Host == "" {
		c.Status, c.Detail = StatusSkip, "no [account.smtp]: approved replies cannot be sent from this account"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := mail.ProbeSMTP(ctx, acct.SMTP); err != nil {
		c.Status, c.Detail, c.Fix = StatusFail, err.Error(), loginFix(err, acct, acct.SMTP)
		return c
	}
	c.Status = StatusOK
	c.Detail = acct.SMTP.Addr() + " connected"
	if acct.SMTP.Username != "" {
		c.Detail += " and authenticated as " + acct.SMTP.Username
	}
	c.Detail += " (no mail sent)"
	return c
}

// loginFix says what to do about a failed connection or login.
func loginFix(err error, acct mail.Account, s mail.ServerConfig) string {
	var re *mail.ReauthError
	switch {
	case errors.As(err, &re):
		return "run 'smista init --reauth " + acct.Name + "'"
	case errors.Is(err, mail.ErrAuthFailed) && s.Auth == mail.AuthOAuth2:
		return "the server refused the OAuth2 token: run 'smista init --reauth " + acct.Name + "'"
	case errors.Is(err, mail.ErrAuthFailed):
		return "check the username and what password_cmd or password_env yields (an app password where the provider wants one)"
	case errors.Is(err, mail.ErrNoSecret), strings.Contains(err.Error(), "_cmd failed"), strings.Contains(err.Error(), "_env"):
		return "fix the password source in the config: run the password_cmd by hand, or export the password_env variable"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time: check host and port, and that a firewall lets the connection out"
	}
	return "check host, port and tls (tls on 993/465, starttls on 143/587) and that the server is reachable"
}

func checkLLM(ctx context.Context, l *LLMCheck, timeout time.Duration) Check {
	c := Check{Name: "llm"}
	switch {
	case l == nil:
		c.Status, c.Detail = StatusOK, "offline classifier (no key, no network)"
	case l.KeyMissing:
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s: the environment variable %s is not set", l.Name, l.KeyEnv)
		c.Fix = fmt.Sprintf("export %s=… in the shell that runs smista (the key never goes in the config), or set triage.provider = \"offline\"", l.KeyEnv)
	case l.BuildErr != nil:
		c.Status, c.Detail, c.Fix = StatusFail, l.BuildErr.Error(), "check triage.provider, model and base_url"
	case l.Ping == nil:
		c.Status, c.Detail = StatusSkip, l.Name+": cannot be asked"
	default:
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := l.Ping(ctx); err != nil {
			c.Status, c.Detail = StatusFail, err.Error()
			c.Fix = "check the key, the model name and base_url; until it answers, triage falls back to the offline classifier"
			return c
		}
		c.Status, c.Detail = StatusOK, l.Name+" answered a one-token request"
	}
	return c
}

func (a *App) checkEndpoints(ctx context.Context, o DoctorOptions) []Check {
	eps, err := a.db.Endpoints(ctx)
	if err != nil {
		return []Check{{Name: "endpoints", Status: StatusFail, Detail: err.Error(), Fix: "check the database"}}
	}
	if len(eps) == 0 {
		return []Check{{Name: "endpoints", Status: StatusWarn, Detail: "none: tickets are decided but sent nowhere",
			Fix: "add your ticket system's URL with 'smista endpoints add URL' (or 'smista listen' to try locally)"}}
	}
	var out []Check
	for _, ep := range eps {
		out = append(out, a.checkEndpoint(ctx, ep, o))
	}
	return out
}

func (a *App) checkEndpoint(ctx context.Context, ep db.Endpoint, o DoctorOptions) Check {
	c := Check{Name: "endpoint " + ep.ID}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	guard := a.sendOpts.Guard
	norm, err := guard.CheckURL(ctx, o.Resolver, ep.URL)
	switch {
	case errors.Is(err, webhook.ErrPrivateAddr):
		c.Status, c.Detail = StatusFail, ep.URL+": "+err.Error()
		c.Fix = "a loopback or private receiver needs [webhook] allow_private = true; or use its public URL"
		return c
	case err != nil:
		c.Status, c.Detail = StatusFail, ep.URL+": "+err.Error()
		c.Fix = "check the URL's host name (smista endpoints list; rm and add it again to change it)"
		return c
	}
	u, _ := url.Parse(norm)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	d := net.Dialer{Timeout: o.Timeout, Control: guard.Control, Resolver: o.Resolver}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		c.Status, c.Detail = StatusFail, ep.URL+": unreachable: "+dialReason(err)
		c.Fix = "is the receiver running and listening there? deliveries to it wait and retry, then go dead"
		return c
	}
	conn.Close()
	c.Status, c.Detail = StatusOK, ep.URL+": resolves, passes the address guard, accepts connections"
	if !ep.Enabled {
		c.Status, c.Fix = StatusWarn, "disabled ("+ep.DisabledReason+"): its deliveries wait as paused; 'smista endpoints enable "+ep.ID+"'"
		return c
	}
	if o.SendTest {
		a.sendTest(ctx, ep, &c)
	} else {
		c.Detail += " (no event sent; --send-test sends one)"
	}
	return c
}

// sendTest queues a test event for ep and makes one attempt at once.
func (a *App) sendTest(ctx context.Context, ep db.Endpoint, c *Check) {
	try, err := a.SendTestEvent(ctx, ep.ID)
	if r := try.Outcome.Result; err == nil && !r.OK() {
		err = fmt.Errorf("%s: %s", r.Class, r.Err)
	}
	if err != nil {
		c.Status, c.Detail = StatusFail, ep.URL+": test event failed: "+err.Error()
		c.Fix = "'smista log --attempts --endpoint " + ep.ID + "' shows the attempt and the receiver's answer"
		return
	}
	c.Detail = ep.URL + ": test event delivered"
}

// dialReason is a dial error without Go's "dial tcp 127.0.0.1:9:" prefix.
func dialReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}
