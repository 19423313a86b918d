package webhook

import (
	"testing"
	"time"
)

// TestForwardHandsOverAtStop: a disabled notice queued when the sender
// stops still reaches the subscriber ("smista send" prints it, the UI
// shows it), every time, and a subscriber that stopped reading does not
// hold the shutdown.
func TestForwardHandsOverAtStop(t *testing.T) {
	run := func(events chan Notice) <-chan struct{} {
		s := &Sender{events: events, impWake: make(chan struct{}, 1)}
		s.important = []Notice{{Kind: NoticeDisabled, EndpointID: "ep_x"}}
		s.impWake <- struct{}{}
		stop := make(chan struct{})
		close(stop) // both the wake-up and the stop are ready
		done := make(chan struct{})
		go func() { s.forward(stop); close(done) }()
		return done
	}
	// Without the hand-over, select picks the stop about half the time.
	for i := range 64 {
		events := make(chan Notice, 4)
		select {
		case <-run(events):
		case <-time.After(10 * time.Second):
			t.Fatal("forward did not return")
		}
		select {
		case n := <-events:
			if n.Kind != NoticeDisabled || n.EndpointID != "ep_x" {
				t.Fatalf("run %d: notice %+v", i, n)
			}
		default:
			t.Fatalf("run %d: the disabled notice was dropped at stop", i)
		}
	}
	// Nobody reads: forward gives up after importantGrace.
	select {
	case <-run(make(chan Notice)):
	case <-time.After(10 * time.Second):
		t.Fatal("a subscriber that does not read held forward past its grace")
	}
}
