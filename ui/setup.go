package ui

import (
	"fmt"
	"io"
	"strings"

	"smista/app/setup"
	"smista/ui/safe"
)

// WriteSetupStep writes one step of "smista init" as its line (the
// authorization URL on a line of its own); what came from a server or the
// user is sanitised.
func WriteSetupStep(w io.Writer, s setup.Step) {
	switch s := s.(type) {
	case setup.Recognised:
		fmt.Fprintf(w, "provider: %s (%s)\n", s.Provider, s.How)
	case setup.Wrote:
		fmt.Fprintf(w, "wrote %s (mode 0600; no secret in it)\n", s.Path)
	case setup.WaitingForBrowser:
		fmt.Fprintln(w, "sign in: waiting for your browser (the page comes back to this machine on 127.0.0.1)")
	case setup.OpenURL:
		fmt.Fprintf(w, "open this address in a browser on this machine:\n  %s\n", s.URL)
	case setup.DeviceCode:
		fmt.Fprintf(w, "sign in: %s\n", safe.String(s.Code.String()))
	case setup.SignedIn:
		fmt.Fprintf(w, "signed in as %s; the token is kept in the %s\n", safe.String(s.Username), s.Where)
	case setup.LoggedIn:
		fmt.Fprintf(w, "imap: logged in to %s as %s (%s)\n", s.Addr, safe.String(s.Username), safe.String(strings.Join(s.Has, " ")))
	case setup.EndpointAdded:
		fmt.Fprintf(w, "endpoint %s added; its signing secret (shown once, give it to the receiver): %s\n", s.ID, s.Secret)
	}
}
