package serve

import (
	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// noAgentForwarding is the session channel handler with agent-forwarding
// requests refused: charm.land/ssh acknowledges them (its handler is unfinished there),
// and a team server has no use for an agent's keys.
func noAgentForwarding(srv *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	ssh.DefaultSessionHandler(srv, conn, filtered{newChan}, ctx)
}

// filtered is a session channel whose agent requests are answered no.
type filtered struct{ gossh.NewChannel }

func (f filtered) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := f.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		for r := range reqs {
			if r.Type == "auth-agent-req@openssh.com" {
				if r.WantReply {
					_ = r.Reply(false, nil)
				}
				continue
			}
			out <- r
		}
	}()
	return ch, out, nil
}
