package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"smista/triage"
)

// ErrBadQuery is wrapped by ParseQuery's errors: a term it cannot read.
var ErrBadQuery = errors.New("bad search")

// queryTerms are the terms ParseQuery knows, for its error messages.
const queryTerms = "from: subject: intent: flag: is:unread before: after:"

// ParseQuery reads a search as typed into the inbox filter it means:
//
//	word "a phrase"        each in the subject, the sender or the body (all must match)
//	from:ann from:"Ann B"  in the sender's name or address
//	subject:invoice        in the subject
//	intent:support         an intent, or intent:untriaged
//	flag:legal             payments, legal, vip or injection
//	is:unread              not read yet
//	before:2026-11-20      dated before that day (in loc); before:7d older than 7 days
//	after:2026-11-20       dated that day or later; after:7d within the last 7 days
//
// Relative dates count back from now in hours, days, weeks, months or
// years (12h, 7d, 2w, 3m, 1y). Term names are lowercase; a quote left open
// runs to the end. It fails, wrapping ErrBadQuery, on an unknown term or
// value, with a message that says what is allowed.
func ParseQuery(q string, now time.Time, loc *time.Location) (InboxFilter, error) {
	var f InboxFilter
	var words, from, subject []string
	for _, tok := range splitQuery(q) {
		name, val, ok := tok.term()
		if !ok {
			words = append(words, tok.quoted())
			continue
		}
		switch name {
		case "from":
			from = append(from, quoteWord(val))
		case "subject":
			subject = append(subject, quoteWord(val))
		case "intent":
			v := strings.ToLower(val)
			if v != "untriaged" && !slices.Contains(triage.Intents, triage.Intent(v)) {
				return InboxFilter{}, fmt.Errorf("%w: intent:%s: the intents are %s and untriaged", ErrBadQuery, val, intentNames())
			}
			f.Intent = v
		case "flag":
			v := strings.ToLower(val)
			if flagValue(v) == 0 {
				return InboxFilter{}, fmt.Errorf("%w: flag:%s: the flags are payments, legal, vip and injection", ErrBadQuery, val)
			}
			f.Flag = v
		case "is":
			if strings.ToLower(val) != "unread" {
				return InboxFilter{}, fmt.Errorf("%w: is:%s: only is:unread is known", ErrBadQuery, val)
			}
			f.Unread = true
		case "before", "after":
			t, err := parseWhen(val, now, loc)
			if err != nil {
				return InboxFilter{}, fmt.Errorf("%w: %s:%s: %w", ErrBadQuery, name, val, err)
			}
			if name == "before" {
				f.Before = t
			} else {
				f.After = t
			}
		default:
			return InboxFilter{}, fmt.Errorf("%w: %s: is not a term (the terms: %s)", ErrBadQuery, name, queryTerms)
		}
	}
	f.Search, f.From, f.Subject = strings.Join(words, " "), strings.Join(from, " "), strings.Join(subject, " ")
	return f, nil
}

// flagValue is the bit of the flag named v in messages.flags, 0 for none.
func flagValue(v string) int {
	for _, b := range flagBits {
		if b.name == v {
			return b.bit
		}
	}
	return 0
}

func intentNames() string {
	names := make([]string, len(triage.Intents))
	for i, in := range triage.Intents {
		names[i] = string(in)
	}
	return strings.Join(names, ", ")
}

// parseWhen reads a date (2026-11-20: its start in loc) or a time
// before now (7d).
func parseWhen(v string, now time.Time, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t, nil
	}
	if len(v) >= 2 {
		n, err := strconv.Atoi(v[:len(v)-1])
		if err == nil && n >= 0 && n <= 100000 {
			switch v[len(v)-1] {
			case 'h':
				return now.Add(-time.Duration(n) * time.Hour), nil
			case 'd':
				return now.AddDate(0, 0, -n), nil
			case 'w':
				return now.AddDate(0, 0, -7*n), nil
			case 'm':
				return now.AddDate(0, -n, 0), nil
			case 'y':
				return now.AddDate(-n, 0, 0), nil
			}
		}
	}
	return time.Time{}, errors.New("a date is YYYY-MM-DD, or a time ago such as 12h, 7d, 2w, 3m, 1y")
}

// queryToken is one space-separated piece of a search: a word, a
// "quoted phrase", or a term (name:value, the value maybe quoted).
type queryToken struct {
	text   string // without its quotes
	phrase bool   // it held a quote
	lead   bool   // it began with a quote: a phrase, never a term
}

// term splits a name:value token; ok is false for a plain word (a
// phrase, a name not all lowercase letters, nothing after the colon, or
// a URL).
func (t queryToken) term() (name, val string, ok bool) {
	name, val, found := strings.Cut(t.text, ":")
	if t.lead || !found || name == "" || val == "" || strings.HasPrefix(val, "//") ||
		strings.Trim(name, "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", "", false
	}
	return name, val, true
}

// quoted spells the token back as splitQuery reads it.
func (t queryToken) quoted() string {
	if t.phrase {
		return quoteWord(t.text)
	}
	return t.text
}

// quoteWord quotes v when it holds a space (a phrase).
func quoteWord(v string) string {
	if strings.ContainsAny(v, " \t") {
		return `"` + v + `"`
	}
	return v
}

// splitQuery splits q at spaces outside quotes, dropping the quotes; a
// quote left open runs to the end.
func splitQuery(q string) []queryToken {
	var out []queryToken
	var b strings.Builder
	var tok queryToken
	inQuote := false
	flush := func() {
		if tok.text = strings.TrimSpace(b.String()); tok.text != "" {
			out = append(out, tok)
		}
		b.Reset()
		tok = queryToken{}
	}
	for _, r := range q {
		switch {
		case r == '"':
			inQuote = !inQuote
			tok.phrase = true
			if b.Len() == 0 {
				tok.lead = true
			}
		case !inQuote && (r == ' ' || r == '\t' || r == '\n'):
			flush()
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return out
}

// textTokens splits a filter's text field (words and "phrases") into the
// texts each to match.
func textTokens(s string) []string {
	var out []string
	for _, t := range splitQuery(s) {
		out = append(out, t.text)
	}
	return out
}

// headerCols are the columns of messages each text field searches.
var (
	allCols     = []string{"subject", "from_name", "from_addr"}
	fromCols    = []string{"from_name", "from_addr"}
	subjectCols = []string{"subject"}
)

// textConds returns the conditions of f's text fields on messages m: each
// word or phrase of Search in the subject, the sender or the body; of From
// in the sender; of Subject in the subject.
func textConds(f InboxFilter) ([]string, []any) {
	var conds []string
	var args []any
	seq := "m.seq IN "
	if f.plan != planList {
		seq = "+m.seq IN " // not the rowids' order: the list's index
	}
	add := func(s string, cols []string, body bool) {
		ts := textTokens(s)
		for i, t := range ts {
			var bm string
			if body {
				bm = bodyMatch(t, lastOpen(s, i, ts))
			}
			c, a := headerCond(t, cols, seq, bm, f.plan == planProbe)
			conds, args = append(conds, c), append(args, a...)
		}
	}
	add(f.Search, allCols, true)
	add(f.From, fromCols, false)
	add(f.Subject, subjectCols, false)
	return conds, args
}

// headerCond is t as a substring of one of cols, any case: read in the
// trigram index (and the rows past it directly), or in every row when t
// is shorter than a trigram; or, with body set, body matched in the body
// index. seq is how the rows' seq is tested against a list ("m.seq IN ");
// with probe, the body index is asked about each row rather than read
// into a list (the word is in most bodies: the page is found within a few
// rows more than its length).
func headerCond(t string, cols []string, seq, body string, probe bool) (string, []any) {
	p := "%" + likeEscape(t) + "%"
	likes := func(prefix string) (string, []any) {
		var parts []string
		var args []any
		for _, c := range cols {
			parts = append(parts, prefix+c+` LIKE ? ESCAPE '\'`)
			args = append(args, p)
		}
		return "(" + strings.Join(parts, " OR ") + ")", args
	}
	const bodyList = `SELECT rowid FROM messages_body WHERE messages_body MATCH ?`
	if utf8.RuneCountInString(t) < 3 {
		c, a := likes("m.")
		if body == "" {
			return c, a
		}
		if probe {
			return "(" + c + ` OR EXISTS (SELECT 1 FROM messages_body b
				WHERE b.messages_body MATCH ? AND b.rowid = m.seq))`, append(a, body)
		}
		return "(" + c + " OR " + seq + "(" + bodyList + "))", append(a, body)
	}
	match := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	if len(cols) < len(allCols) {
		match = "{" + strings.Join(cols, " ") + "} : " + match
	}
	l, la := likes("")
	// One list of the header's and the body's matches (a seq in both is
	// one entry of the list SQLite builds).
	q := `SELECT rowid AS s FROM messages_search WHERE messages_search MATCH ?
			UNION ALL SELECT seq FROM messages WHERE seq > (SELECT indexed_seq FROM search_state) AND ` + l
	args := append([]any{match}, la...)
	if body != "" && probe {
		return "(" + seq + "(" + q + `) OR EXISTS (SELECT 1 FROM messages_body b
			WHERE b.messages_body MATCH ? AND b.rowid = m.seq))`, append(args, body)
	}
	if body != "" {
		q += " UNION ALL " + bodyList
		args = append(args, body)
	}
	return seq + "(" + q + ")", args
}

// textCount returns the query counting the messages matching f when f is
// words of three letters or more and nothing else, and ok: the matches
// of each word read from the indexes, intersected, without reading the
// messages (a word found in nearly every message is counted in a fifth of
// the time).
func textCount(f InboxFilter) (q string, args []any, ok bool) {
	g := InboxFilter{Search: f.Search}
	if f != g || f.Search == "" {
		return "", nil, false
	}
	ts := textTokens(f.Search)
	var lists []string
	for i, t := range ts {
		if utf8.RuneCountInString(t) < 3 {
			return "", nil, false
		}
		c, a := headerCond(t, allCols, "", bodyMatch(t, lastOpen(f.Search, i, ts)), false)
		// UNION: a message in both the header's and the body's list is
		// one (UNION and INTERSECT keep each seq once).
		lists = append(lists, "SELECT s FROM "+strings.ReplaceAll(c, "UNION ALL", "UNION"))
		args = append(args, a...)
	}
	return "SELECT COUNT(*) FROM (" + strings.Join(lists, " INTERSECT ") + ")", args, true
}

// lastOpen reports whether token i of ts, the tokens of s, is the last
// and maybe still being typed: not a phrase whose quote closed.
func lastOpen(s string, i int, ts []string) bool {
	return i == len(ts)-1 && !strings.HasSuffix(strings.TrimSpace(s), `"`)
}

// bodyMatch is the body index's query for t: its words in order; when t
// is the last of the search (a word maybe being typed) and at least 4
// letters long, its last word is a prefix too ("dashb" finds
// "dashboard"): shorter, a prefix stands for too many words ("the*").
func bodyMatch(t string, last bool) string {
	m := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	if last && utf8.RuneCountInString(t) >= 4 {
		m += "*"
	}
	return m
}

// How a page of a search is read (InboxFilter.plan), chosen by how many
// messages the rarest word's body matches:
//
//   - planList, at most walkAbove: the matches, read from the indexes
//     into a list, are looked up and sorted (a rare word: few of them);
//   - planWalk, more: the list's index is read in order and each row
//     looked up in the list (a page of matches within a few times its
//     length; a walk for a rare word would read the whole store);
//   - planProbe, in more than half the bodies: the same walk asks the
//     body index about each row instead of reading every match first.
const (
	planList = iota
	planWalk
	planProbe
)

// walkAbove is how many body matches make a word common (planWalk).
const walkAbove = 2000

// textPlan returns how to read a page of search (planList, planWalk or
// planProbe): each word's body matches counted, up to what decides.
func (d *DB) textPlan(ctx context.Context, search string) (int, error) {
	ts := textTokens(search)
	if len(ts) == 0 {
		return planList, nil
	}
	var total int
	if err := d.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM messages`).Scan(&total); err != nil {
		return 0, err
	}
	plan := planProbe
	for i, t := range ts {
		var n int
		if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT rowid FROM messages_body WHERE messages_body MATCH ? LIMIT ?)`,
			bodyMatch(t, lastOpen(search, i, ts)), max(walkAbove, total/2)+1).Scan(&n); err != nil {
			return 0, err
		}
		switch {
		case n <= walkAbove:
			return planList, nil
		case n <= total/2:
			plan = planWalk
		}
	}
	return plan, nil
}
