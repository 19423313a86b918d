package mailtest

import (
	"bytes"
	"errors"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"
)

// oauthState holds the bearer token an IMAPServer accepts, if any, or
// the function that checks one.
type oauthState struct {
	mu    sync.Mutex
	token string
	check func(string) bool
}

func (o *oauthState) enabled() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.token != "" || o.check != nil
}

func (o *oauthState) valid(token string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.check != nil {
		return o.check(token)
	}
	return token == o.token
}

// EnableOAuthCheck is EnableOAuth accepting every token check approves
// (an AuthServer's Valid).
func (s *IMAPServer) EnableOAuthCheck(check func(token string) bool) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.check = check
}

// EnableOAuth makes new connections offer AUTH=XOAUTH2 and
// AUTH=OAUTHBEARER (next to PLAIN) and accept token for the server's user.
func (s *IMAPServer) EnableOAuth(token string) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.token = token
}

// oauthSession adds the OAuth SASL mechanisms to a memory session.
type oauthSession struct {
	imapserver.Session
	srv *IMAPServer
}

var _ imapserver.SessionSASL = (*oauthSession)(nil)

func (o *oauthSession) AuthenticateMechanisms() []string {
	return []string{"PLAIN", "XOAUTH2", "OAUTHBEARER"}
}

func (o *oauthSession) Authenticate(mech string) (sasl.Server, error) {
	login := func(user, token string) error {
		if user != o.srv.Username || token == "" || !o.srv.oauth.valid(token) {
			return imapserver.ErrAuthFailed
		}
		return o.Session.Login(o.srv.Username, o.srv.Password)
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return o.Session.Login(user, pass) }), nil
	case "OAUTHBEARER":
		return sasl.NewOAuthBearerServer(func(opts sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if login(opts.Username, opts.Token) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{login: login}, nil
	}
	return nil, errors.New("unsupported SASL mechanism")
}

// xoauth2Server checks "user=U\x01auth=Bearer T\x01\x01".
type xoauth2Server struct {
	login func(user, token string) error
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if resp == nil {
		return []byte{}, false, nil
	}
	var user, token string
	for _, kv := range bytes.Split(resp, []byte{1}) {
		switch {
		case bytes.HasPrefix(kv, []byte("user=")):
			user = string(kv[5:])
		case bytes.HasPrefix(kv, []byte("auth=Bearer ")):
			token = string(kv[12:])
		}
	}
	if err := x.login(user, token); err != nil {
		return nil, true, err
	}
	return nil, true, nil
}

// Namespace and Move delegate to the memory session, which has both:
// IMAP4rev2 requires them.
func (o *oauthSession) Namespace() (*imap.NamespaceData, error) {
	return o.Session.(imapserver.SessionNamespace).Namespace()
}

func (o *oauthSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return o.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}
