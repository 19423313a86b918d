package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"smista/mail"
	"smista/mail/mailtest"
)

func TestOAuthLogin(t *testing.T) {
	srv, err := mailtest.StartIMAP("agent@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.EnableOAuth("ya29.good-token")
	for name, tc := range map[string]struct {
		auth, tokenCmd string
		wantErr        error
		wantText       string
	}{
		"xoauth2":              {auth: mail.AuthXOAUTH2, tokenCmd: "echo ya29.good-token"},
		"oauthbearer":          {auth: mail.AuthOAuthBearer, tokenCmd: "printf 'ya29.good-token\\n'"},
		"xoauth2 bad token":    {auth: mail.AuthXOAUTH2, tokenCmd: "echo ya29.expired", wantErr: mail.ErrAuthFailed},
		"oauthbearer bad":      {auth: mail.AuthOAuthBearer, tokenCmd: "echo ya29.expired", wantErr: mail.ErrAuthFailed},
		"token_cmd fails":      {auth: mail.AuthXOAUTH2, tokenCmd: "echo ya29.partial; exit 2", wantText: "token_cmd failed: exit status 2"},
		"unknown auth":         {auth: "kerberos", tokenCmd: "echo x", wantText: `auth "kerberos"`},
		"token_cmd prints nil": {auth: mail.AuthOAuthBearer, tokenCmd: "true", wantText: "token_cmd printed nothing"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := srv.Config()
			cfg.Auth, cfg.Token = tc.auth, mail.Secret{Cmd: tc.tokenCmd}
			c, err := mail.DialIMAP(context.Background(), cfg, nil)
			switch {
			case tc.wantErr == nil && tc.wantText == "":
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				defer c.Close()
				if _, err := c.Select("INBOX", nil).Wait(); err != nil {
					t.Fatalf("select after OAuth login: %v", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantText)
				}
			}
			if err != nil && strings.Contains(err.Error(), "ya29") {
				t.Fatalf("token leaked into error: %v", err)
			}
		})
	}
}

func TestSecretResolve(t *testing.T) {
	env := func(k string) string {
		if k == "MAIL_PW" {
			return "s3cret"
		}
		return ""
	}
	for name, tc := range map[string]struct {
		s       mail.Secret
		want    string
		wantErr string
	}{
		"cmd trimmed":    {s: mail.Secret{Cmd: "printf '  s3cret \\n\\n'"}, want: "s3cret"},
		"env":            {s: mail.Secret{Env: "MAIL_PW"}, want: "s3cret"},
		"cmd wins":       {s: mail.Secret{Cmd: "echo fromcmd", Env: "MAIL_PW"}, want: "fromcmd"},
		"env unset":      {s: mail.Secret{Env: "NOPE"}, wantErr: "environment variable NOPE is empty or unset"},
		"none":           {wantErr: "no password_cmd or password_env configured"},
		"cmd fails":      {s: mail.Secret{Cmd: "echo s3cret; exit 7"}, wantErr: "password_cmd failed: exit status 7"},
		"cmd stderr":     {s: mail.Secret{Cmd: "echo 'pass: not found' >&2; exit 1"}, wantErr: "(pass: not found)"},
		"cmd not found":  {s: mail.Secret{Cmd: "/nonexistent/pass-tool"}, wantErr: "password_cmd failed: exit status 127"},
		"cmd empty line": {s: mail.Secret{Cmd: "echo"}, wantErr: "password_cmd printed nothing"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := tc.s.Resolve(context.Background(), "password", env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("secret in error: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
