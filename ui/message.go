package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"smista/app"
	"smista/db"
	"smista/mail"
	"smista/ui/safe"
)

// messageScreen shows one email: headers, triage, deliveries, drafts and
// the body (or its raw source), in a viewport, a part of at most partBytes
// at a time; then its links.
type messageScreen struct {
	c       *common
	w, h    int
	id      string
	req     uint64
	loaded  bool
	err     string
	title   string // cleaned subject
	detail  *db.MessageDetail
	body    string // the whole body text, cleaned
	raw     []byte // the message as received
	links   []string
	draftID int64 // the pending draft, 0 if none
	// showRaw shows the raw source instead of the body; doc is what is
	// shown (cleaned) and parts its parts' start offsets; part the one
	// shown.
	showRaw bool
	doc     string
	// hay is doc in lower case for the search, made at its first search
	// (once per doc, not per keystroke); exactCase when lowering doc
	// would move offsets, so the search matches case.
	hay       string
	exactCase bool
	parts     []int
	part      int
	// docLine is the content line where the part's text starts; find is
	// the search inside the email.
	docLine int
	find    messageFind
	vp      viewport.Model
}

type messageLoaded struct {
	req    uint64
	id     string
	detail *db.MessageDetail
	body   string
	links  []string
	err    error
}

func (messageLoaded) route() scrID { return scrMessage }

func newMessage(c *common) *messageScreen {
	vp := viewport.New()
	vp.SoftWrap = true
	return &messageScreen{c: c, vp: vp}
}

// Topics implements screen: the data the screen shows.
func (s *messageScreen) Topics() app.Topic {
	return app.TopicMessages | app.TopicTriage | app.TopicDrafts | app.TopicDeliveries
}

// Refresh implements screen: it reloads what is shown from the store.
func (s *messageScreen) Refresh() tea.Cmd { return s.load(false) }

// Help implements screen.
func (s *messageScreen) Help() (short, own []key.Binding) {
	k := s.c.keys
	return []key.Binding{k.Back, k.Reply, k.SuggestTicket, k.NotTicket, k.ToDraft, k.Help},
		[]key.Binding{pair(k.NextMessage, k.PrevMessage, "next · previous email"), k.Search,
			pair(k.NextMatch, k.PrevMatch, "next · previous match"), k.RawSource,
			pair(k.NextPart, k.PrevPart, "next · previous part"), k.SaveAttachments,
			pair(k.ToggleRead, k.Star, "read/unread · star"), pair(k.Done, k.Undo, "done (archive) · undo"),
			pair(k.SuggestTicket, k.NotTicket, "ticket · not a ticket"), k.CorrectIntent, k.ToDraft,
			pair(k.Reply, k.ReplyAll, "reply · reply to all"), pair(k.Forward, k.NewMessage, "forward · new message")}
}

// open shows the email id from the top and marks it read.
func (s *messageScreen) open(id string) tea.Cmd {
	if id != s.id {
		*s = messageScreen{c: s.c, w: s.w, h: s.h, id: id, vp: s.vp}
	}
	s.vp.GotoTop()
	return s.load(true)
}

// load reads the message (and marks it read when markSeen).
func (s *messageScreen) load(markSeen bool) tea.Cmd {
	if s.id == "" {
		return nil
	}
	req := s.c.nextReq()
	s.req = req
	store, acts, id := s.c.deps.Store, s.c.deps.Actions, s.id
	load := s.c.query(func(ctx context.Context) tea.Msg {
		md, err := store.MessageDetail(ctx, id)
		if err != nil {
			return messageLoaded{req: req, id: id, err: err}
		}
		body := md.Message.Text
		if strings.HasSuffix(body, mail.TruncatedNote) {
			// Past 1 MiB the store keeps the start: the whole text comes
			// from the raw message, shown a part at a time.
			if full, err := mail.ParseFull(md.Message.Raw); err == nil {
				body = full.Text
			}
		}
		if strings.TrimSpace(body) == "" && md.Message.HTML != "" {
			body = mail.HTMLToText(md.Message.HTML)
		}
		links := mail.Links(md.Message)
		for i, l := range links {
			links[i] = clean(l)
		}
		return messageLoaded{req: req, id: id, detail: md, body: safe.Text(body), links: links}
	})
	if !markSeen || acts == nil {
		return load
	}
	// Marked read beside the load, not before it: the server's \Seen
	// may take a round trip the email need not wait for.
	mark := s.c.query(func(ctx context.Context) tea.Msg {
		_ = acts.MarkSeen(ctx, id) // a server's error is the App's notice
		return nil
	})
	return tea.Batch(load, mark)
}

// Update implements screen.
func (s *messageScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sizeMsg:
		s.w, s.h = msg.w, msg.h
		s.vp.SetWidth(s.w)
		s.vp.SetHeight(s.h)
		s.refill(false)
	case messageLoaded:
		s.loadedMsg(msg)
	case findTyped:
		s.setFind(msg.text)
	case findDone:
		s.setFind(msg.text)
	case scrollMsg:
		s.scroll(msg.d)
	case tea.KeyPressMsg:
		s.handleKey(msg)
	}
	return s, nil
}

func (s *messageScreen) scroll(d int) {
	if d > 0 {
		s.vp.ScrollDown(d)
	} else {
		s.vp.ScrollUp(-d)
	}
}

func (s *messageScreen) loadedMsg(msg messageLoaded) {
	if msg.req != s.req || msg.id != s.id {
		return
	}
	s.loaded = true
	if msg.err != nil {
		s.err = clean(msg.err.Error())
		s.vp.SetContent("")
		return
	}
	s.err = ""
	s.detail = msg.detail
	s.raw, s.links = msg.detail.Message.Raw, msg.links
	s.detail.Message.Raw = nil
	if msg.body != s.body || s.doc == "" {
		s.body = msg.body
		s.setDoc()
	}
	s.title = clean(msg.detail.Message.Subject)
	s.draftID = 0
	for _, d := range msg.detail.Drafts {
		if d.Status == "pending" {
			s.draftID = d.ID
			break
		}
	}
	s.refill(false)
}

func (s *messageScreen) handleKey(msg tea.KeyPressMsg) {
	k := s.c.keys
	vp := &s.vp
	switch {
	case composeKey(s.c, msg, s.id):
	case key.Matches(msg, k.Back):
		s.c.emit(backMsg{})
	case key.Matches(msg, k.NextMessage):
		s.c.emit(stepMsg{d: 1})
	case key.Matches(msg, k.PrevMessage):
		s.c.emit(stepMsg{d: -1})
	case key.Matches(msg, k.RawSource):
		s.showRaw = !s.showRaw
		s.setDoc()
		s.refill(true)
	case key.Matches(msg, k.NextPart):
		s.turn(1)
	case key.Matches(msg, k.PrevPart):
		s.turn(-1)
	case key.Matches(msg, k.SaveAttachments):
		s.askSave()
	case key.Matches(msg, k.Search):
		s.startFind()
	case key.Matches(msg, k.NextMatch):
		s.stepMatch(1)
	case key.Matches(msg, k.PrevMatch):
		s.stepMatch(-1)
	case key.Matches(msg, k.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, k.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, k.PageDown):
		vp.PageDown()
	case key.Matches(msg, k.PageUp):
		vp.PageUp()
	case key.Matches(msg, k.Top):
		vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		vp.GotoBottom()
	case key.Matches(msg, k.ToggleRead) && s.detail != nil:
		s.detail.Seen = !s.detail.Seen
		setSeen(s.c, s.id, s.detail.Seen)
	case key.Matches(msg, k.Star) && s.detail != nil:
		s.detail.Flagged = !s.detail.Flagged
		setStar(s.c, s.id, s.detail.Flagged)
	case key.Matches(msg, k.Done) && s.detail != nil && !s.detail.Done:
		markDone(s.c, s.id)
	case key.Matches(msg, k.Undo):
		undoLast(s.c)
	case key.Matches(msg, k.SuggestTicket):
		askSuggestTicket(s.c, s.id, s.title)
	case key.Matches(msg, k.NotTicket):
		askNotTicket(s.c, s.id, s.title)
	case key.Matches(msg, k.CorrectIntent):
		askIntent(s.c, s.id, s.title)
	case key.Matches(msg, k.ToDraft):
		if s.draftID == 0 {
			s.c.info("this email has no draft waiting: r writes a reply")
			return
		}
		s.c.emit(showMsg{to: scrDrafts, then: focusDraftMsg{s.draftID}})
	}
}

// View implements screen: the body's lines.
func (s *messageScreen) View() []string {
	if !s.loaded {
		return []string{s.c.st.Dim.Render("loading…")}
	}
	if s.err != "" {
		return []string{s.c.st.Error.Render("cannot open this message: " + s.err), "", "esc goes back"}
	}
	return strings.Split(s.vp.View(), "\n")
}

// content builds the scrollable text: headers, triage, deliveries, drafts
// and the body. Every untrusted string is cleaned here.
func (s *messageScreen) content() string {
	md := s.detail
	msg := md.Message
	st := &s.c.st
	var b strings.Builder
	field := func(name, v string) {
		// A long value (a summary, a reason) wraps at word boundaries under
		// itself, not under the names.
		fmt.Fprintf(&b, "%s %s\n", st.Bold.Render(pad(name, 9)), wrapIndent(v, s.w-11, s.w-1, 10))
	}
	addrs := func(as []mail.Address) string {
		parts := make([]string, len(as))
		for i, a := range as {
			parts[i] = clean(a.String())
		}
		return strings.Join(parts, ", ")
	}
	field("From:", clean(msg.From.String()))
	if len(msg.To) > 0 {
		field("To:", addrs(msg.To))
	}
	if len(msg.Cc) > 0 {
		field("Cc:", addrs(msg.Cc))
	}
	field("Date:", s.c.longTime(msg.Date))
	field("Subject:", clean(msg.Subject))
	field("Msg-ID:", clean(msg.MessageID))
	for i, a := range msg.Attachments {
		name := "Attach:"
		if i > 0 {
			name = ""
		}
		line := fmt.Sprintf("%s (%s, %s)", clean(a.Filename), clean(a.ContentType), humanSize(a.Size))
		if i == len(msg.Attachments)-1 {
			line += st.Dim.Render("  S saves them")
		}
		field(name, line)
	}
	rule := st.Dim.Render(strings.Repeat("─", max(10, s.w-1))) + "\n"
	b.WriteString(rule)
	s.writeTriage(&b, field)
	if marks := serverMarks(md.Locations); marks != "" {
		field("Server:", st.Warn.Render(marks))
	}
	s.writeDeliveries(&b)
	for _, d := range md.Drafts {
		line := fmt.Sprintf("Draft #%d %s", d.ID, clean(d.Status))
		if d.Status == "pending" {
			line += " — press D to review"
		}
		b.WriteString(st.Warn.Render(line) + "\n")
	}
	b.WriteString(rule)
	s.writeDoc(&b)
	return b.String()
}

func (s *messageScreen) writeTriage(b *strings.Builder, field func(name, v string)) {
	st := &s.c.st
	t := s.detail.Triage
	if t == nil {
		b.WriteString(st.Dim.Render("Not triaged yet (run `smista triage`).") + "\n")
		return
	}
	if t.Intent != "" {
		conf, band := confCell(&st.Fast, t.Confidence)
		is, ok := st.Intent[t.Intent]
		if !ok {
			is = st.Dim
		}
		field("Triage:", is.Render(clean(t.Intent))+"  "+band.On(conf)+"  priority "+clean(t.Priority)+
			"  lang "+clean(t.Language))
		field("Model:", clean(t.Model)+st.Dim.Render("  at "+s.c.longTime(t.At)))
		if t.CorrectedIntent != "" {
			field("Intent:", st.Bold.Render(clean(t.CorrectedIntent))+st.Dim.Render("  corrected by "+clean(t.CorrectedBy)+" (I changes it)"))
		}
		if len(t.Flags) > 0 {
			field("Flags:", st.Warn.Render(clean(strings.Join(t.Flags, ", "))))
		}
		if t.Summary != "" {
			field("Summary:", clean(t.Summary))
		}
		for _, n := range t.Notes {
			field("Note:", clean(n))
		}
	}
	if t.Action != "" {
		dec := clean(t.Action)
		if t.Suggestion != "" {
			dec += " — " + clean(t.Suggestion)
		}
		field("Decision:", st.Bold.Render(dec)+st.Dim.Render("  by "+clean(t.DecidedBy)+" at "+s.c.longTime(t.DecidedAt)))
		for _, r := range t.Reasons {
			field("", "• "+clean(r))
		}
	}
}

func (s *messageScreen) writeDeliveries(b *strings.Builder) {
	st := &s.c.st
	if len(s.detail.Deliveries) == 0 {
		return
	}
	b.WriteString(st.Bold.Render("Webhook deliveries") + "\n")
	for _, d := range s.detail.Deliveries {
		ds, ok := st.Delivery[d.Status]
		if !ok {
			ds = st.Dim
		}
		line := fmt.Sprintf("  %s %s %s  attempts %d", ds.Render(pad(d.Status, 9)), clean(d.EndpointID), clean(d.URL), d.Attempts)
		if d.LastStatusCode != 0 {
			line += fmt.Sprintf("  last %d", d.LastStatusCode)
		}
		if d.LastError != "" {
			line += "  " + st.Error.Render(clean(d.LastError))
		}
		if d.Status == "retrying" || d.Status == "pending" {
			line += "  next " + s.c.countdown(d.NextAttemptAt)
		}
		b.WriteString(wrapIndent(line, s.w-1, s.w-1, 12) + "\n")
	}
}

// serverMarks says what the installations sharing the mailbox decided,
// from the team keywords last synced: a claimed ticket, a person's "not a
// ticket".
func serverMarks(locs []db.MessageLocation) string {
	var marks []string
	for _, l := range locs {
		for _, f := range l.Flags {
			switch {
			case f == mail.KeywordTicket && !slices.Contains(marks, "ticket claimed"):
				marks = append(marks, "ticket claimed")
			case f == mail.KeywordNotTicket && !slices.Contains(marks, "marked not a ticket"):
				marks = append(marks, "marked not a ticket")
			}
		}
	}
	if len(marks) == 0 {
		return ""
	}
	return strings.Join(marks, ", ") + " on the shared mailbox"
}
