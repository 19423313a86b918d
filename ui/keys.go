package ui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding, built once by DefaultKeyMap.
type KeyMap struct {
	// Global.
	Next, Prev, Inbox, Drafts, Tickets, Deliveries, Endpoints key.Binding
	Help, Quit, ForceQuit, Back, Refresh                      key.Binding
	// Navigation.
	Up, Down, PageUp, PageDown, Top, Bottom, Open key.Binding
	// Inbox.
	Search, Intent, Flag, Decision, Sort, Clear key.Binding
	// Message and inbox: human override.
	SuggestTicket, NotTicket, ToDraft key.Binding
	CorrectIntent, ConfirmIntent      key.Binding
	// Message and inbox: state shared with the server, and its undo.
	ToggleRead, Star, Done, Undo key.Binding
	// Inbox: the conversation of an email, the account and folder shown.
	Thread, Mailboxes key.Binding
	// Message view: next and previous email, raw source, parts of a long
	// body, attachments.
	NextMessage, PrevMessage, RawSource, NextPart, PrevPart, SaveAttachments key.Binding
	// Message view: the matches of a search inside the email (/); not n
	// and N, which are the next email and "not a ticket" there.
	NextMatch, PrevMatch key.Binding
	// Writing: on an email (r, A, F) or anywhere (m).
	Reply, ReplyAll, Forward, NewMessage key.Binding
	// Drafts.
	Edit, ExtEdit, Approve, Regenerate, Discard, Save key.Binding
	// Delivery log.
	StatusFilter, EndpointFilter, TimeFilter, Replay, ReplayAll key.Binding
	// Delivery log: scroll the attempt log in the detail pane.
	DetailDown, DetailUp key.Binding
	// Endpoints.
	Add, Test, Toggle, Rotate, Remove, Copy, Backfill key.Binding
	// Confirmation prompts.
	Yes, No key.Binding
	// Text prompts and the draft editor.
	Submit, Cancel key.Binding
}

// DefaultKeyMap returns vim keys plus arrows. (Over 80 lines: one literal,
// a binding per line.)
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, help))
	}
	return KeyMap{
		Next:       b([]string{"tab"}, "tab", "next screen"),
		Prev:       b([]string{"shift+tab"}, "shift+tab", "previous screen"),
		Inbox:      b([]string{"1"}, "1", "inbox"),
		Drafts:     b([]string{"2"}, "2", "drafts"),
		Tickets:    b([]string{"3"}, "3", "tickets"),
		Deliveries: b([]string{"4", "L"}, "4/L", "delivery log"),
		Endpoints:  b([]string{"5"}, "5", "endpoints"),
		Help:       b([]string{"?"}, "?", "help"),
		Quit:       b([]string{"q"}, "q", "quit"),
		ForceQuit:  b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Back:       b([]string{"esc", "h", "left"}, "esc/h", "back"),
		Refresh:    b([]string{"ctrl+r"}, "ctrl+r", "refresh"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+u", "ctrl+b"}, "pgup/^u", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d", "ctrl+f", "space"}, "pgdn/^d", "page down"),
		Top:      b([]string{"home", "g"}, "g/home", "top"),
		Bottom:   b([]string{"end", "G"}, "G/end", "bottom"),
		Open:     b([]string{"enter", "l", "right"}, "enter/l", "open"),

		Search:   b([]string{"/"}, "/", "search"),
		Intent:   b([]string{"i"}, "i", "filter intent"),
		Flag:     b([]string{"f"}, "f", "filter flag"),
		Decision: b([]string{"d"}, "d", "filter decision"),
		Sort:     b([]string{"s"}, "s", "sort date/conf/review"),
		Clear:    b([]string{"c"}, "c", "clear filters"),

		SuggestTicket: b([]string{"T"}, "T", "suggest as ticket"),
		NotTicket:     b([]string{"N"}, "N", "not a ticket"),
		ToDraft:       b([]string{"D"}, "D", "review draft"),
		CorrectIntent: b([]string{"I"}, "I", "correct intent"),
		ConfirmIntent: b([]string{"C"}, "C", "confirm intent"),

		ToggleRead: b([]string{"U"}, "U", "read/unread"),
		Star:       b([]string{"*"}, "*", "star/unstar"),
		Done:       b([]string{"e"}, "e", "done (archive)"),
		Undo:       b([]string{"u"}, "u", "undo read/star/done"),
		Thread:     b([]string{"t"}, "t", "conversation"),
		Mailboxes:  b([]string{"M"}, "M", "account/folder"),

		NextMessage:     b([]string{"n"}, "n", "next email"),
		PrevMessage:     b([]string{"p"}, "p", "previous email"),
		RawSource:       b([]string{"v"}, "v", "raw source"),
		NextPart:        b([]string{"]"}, "]", "next part of a long body"),
		PrevPart:        b([]string{"["}, "[", "previous part"),
		SaveAttachments: b([]string{"S"}, "S", "save attachments"),
		NextMatch:       b([]string{">"}, ">", "next match of / in the email"),
		PrevMatch:       b([]string{"<"}, "<", "previous match"),

		Reply:      b([]string{"r"}, "r", "reply"),
		ReplyAll:   b([]string{"A"}, "A", "reply to all"),
		Forward:    b([]string{"F"}, "F", "forward"),
		NewMessage: b([]string{"m"}, "m", "new message"),

		Edit:       b([]string{"e"}, "e", "edit"),
		ExtEdit:    b([]string{"E"}, "E", "edit in $VISUAL/$EDITOR"),
		Approve:    b([]string{"a"}, "a", "approve and send"),
		Regenerate: b([]string{"r"}, "r", "regenerate"),
		Discard:    b([]string{"x"}, "x", "discard"),
		Save:       b([]string{"ctrl+s"}, "ctrl+s", "save"),

		StatusFilter:   b([]string{"s"}, "s", "filter status"),
		EndpointFilter: b([]string{"f"}, "f", "filter endpoint"),
		Replay:         b([]string{"r"}, "r", "replay"),
		TimeFilter:     b([]string{"t"}, "t", "filter time"),
		ReplayAll:      b([]string{"R"}, "R", "replay all matching (dead when status is all)"),
		DetailDown:     b([]string{"J"}, "J", "scroll attempts down"),
		DetailUp:       b([]string{"K"}, "K", "scroll attempts up"),

		Add:      b([]string{"a"}, "a", "add"),
		Test:     b([]string{"t"}, "t", "send test"),
		Toggle:   b([]string{"e"}, "e", "enable/disable"),
		Rotate:   b([]string{"r"}, "r", "rotate secret"),
		Backfill: b([]string{"b"}, "b", "queue tickets that have no delivery"),
		Remove:   b([]string{"x"}, "x", "remove"),
		Copy:     b([]string{"c"}, "c", "copy secret"),

		Yes: b([]string{"y"}, "y", "yes"),
		No:  b([]string{"n", "esc"}, "n", "no"),

		Submit: b([]string{"enter"}, "enter", "submit"),
		Cancel: b([]string{"esc"}, "esc", "cancel"),
	}
}

// helpKeys adapts one screen's bindings to bubbles/help.
type helpKeys struct {
	short, own, global, nav []key.Binding
}

func (k KeyMap) help(s screen) helpKeys {
	short, own := s.Help()
	quit := k.Quit
	switch s.(type) {
	case *messageScreen, *threadScreen, *mailboxesScreen:
		// q leaves an open email for its list, as in a mail reader.
		quit = key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "back to the list"))
	}
	return helpKeys{
		short:  short,
		own:    own,
		global: []key.Binding{k.Next, k.Prev, k.Inbox, k.Drafts, k.Tickets, k.Deliveries, k.Endpoints, k.Refresh, k.Help, quit},
		nav:    []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Open, k.Back},
	}
}

// ShortHelp implements help.KeyMap.
func (h helpKeys) ShortHelp() []key.Binding { return h.short }

// FullHelp implements help.KeyMap: navigation, the screen's own keys, and
// the global ones.
func (h helpKeys) FullHelp() [][]key.Binding { return [][]key.Binding{h.nav, h.own, h.global} }

// pair is one help line for two bindings: its keys are both, its help
// "a/b what" (the full help of a screen with many keys fits 80×24).
func pair(a, b key.Binding, what string) key.Binding {
	keys := append(append([]string{}, a.Keys()...), b.Keys()...)
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(a.Help().Key+"/"+b.Help().Key, what))
}
