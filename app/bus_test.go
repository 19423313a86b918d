package app_test

import (
	"testing"
	"time"

	"smista/app"
	"smista/webhook"
)

// next reads one event or fails after a bound.
func next(t *testing.T, s *app.Subscription) app.Event {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if !ok {
			t.Fatal("subscription closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return nil
}

func TestBusFansOutToEverySubscriber(t *testing.T) {
	b := app.NewBus()
	s1, s2 := b.Subscribe(), b.Subscribe()
	defer s1.Close()
	defer s2.Close()
	b.Publish(app.Notice{Kind: "sync", Text: "hello"})
	for _, s := range []*app.Subscription{s1, s2} {
		if n, ok := next(t, s).(app.Notice); !ok || n.Text != "hello" {
			t.Fatalf("got %#v, want the notice", n)
		}
	}
}

// A subscriber that does not read never blocks the publisher: changes
// merge, progress keeps its latest value, and it sees every notice.
func TestBusSlowSubscriberSeesMergedState(t *testing.T) {
	b := app.NewBus()
	s := b.Subscribe()
	defer s.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10000 {
			b.Publish(app.Changed{Topics: app.TopicMessages})
			b.Publish(app.TriageProgress{Working: true, Done: i + 1, Total: 10000})
		}
		b.Publish(app.Changed{Topics: app.TopicDeliveries})
		b.Publish(app.Notice{Text: "last"})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	var changed app.Topic
	var last app.TriageProgress
	var notices int
	deadline := time.After(5 * time.Second)
	for changed != app.TopicMessages|app.TopicDeliveries || last.Done != 10000 || notices != 1 {
		select {
		case e := <-s.C():
			switch v := e.(type) {
			case app.Changed:
				changed |= v.Topics
			case app.TriageProgress:
				last = v
			case app.Notice:
				notices++
			}
		case <-deadline:
			t.Fatalf("merged state never arrived: changed %b, progress %+v, notices %d", changed, last, notices)
		}
	}
}

// Finish hands over what is queued, then closes C: a CLI that prints until
// C closes has printed everything published before it stopped.
func TestBusFinishDrains(t *testing.T) {
	b := app.NewBus()
	s := b.Subscribe()
	for i := range 50 {
		b.Publish(app.Notice{Text: string(rune('a' + i%26))})
	}
	s.Finish()
	b.Publish(app.Notice{Text: "after finish"})
	n := 0
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-s.C():
			if !ok {
				if n != 50 {
					t.Fatalf("read %d notices before the close, want 50", n)
				}
				return
			}
			if v := e.(app.Notice); v.Text == "after finish" {
				t.Fatal("an event published after Finish was delivered")
			}
			n++
		case <-timeout:
			t.Fatalf("C not closed after Finish (read %d)", n)
		}
	}
}

// Past the backlog, progress notices are dropped, never a disabled
// endpoint or a dead delivery.
func TestBusKeepsImportantNotices(t *testing.T) {
	b := app.NewBus()
	s := b.Subscribe()
	for range 5000 {
		b.Publish(app.DeliveryNotice{Notice: webhook.Notice{Kind: webhook.NoticeDelivered}})
	}
	b.Publish(app.DeliveryNotice{Notice: webhook.Notice{Kind: webhook.NoticeDisabled, EndpointID: "ep_1"}})
	b.Publish(app.DeliveryNotice{Notice: webhook.Notice{Kind: webhook.NoticeDead, DeliveryID: "dlv_1"}})
	s.Finish()
	var delivered, disabled, dead int
	for e := range s.C() {
		switch e.(app.DeliveryNotice).Kind {
		case webhook.NoticeDelivered:
			delivered++
		case webhook.NoticeDisabled:
			disabled++
		case webhook.NoticeDead:
			dead++
		}
	}
	if disabled != 1 || dead != 1 {
		t.Fatalf("disabled %d dead %d, want 1 and 1", disabled, dead)
	}
	if delivered >= 5000 || delivered < 1000 {
		t.Fatalf("%d progress notices kept of 5000, want the backlog's worth", delivered)
	}
}

func TestBusCloseStopsAtOnce(t *testing.T) {
	b := app.NewBus()
	s := b.Subscribe()
	for range 100 {
		b.Publish(app.Notice{Text: "x"})
	}
	s.Close()
	s.Close() // twice is fine
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.C():
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("C not closed after Close")
		}
	}
}
