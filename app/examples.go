package app

import (
	"context"
	"sort"
	"strings"
	"sync"
	"unicode"

	"smista/mail"
	"smista/triage"
)

// Examples for an LLM: the corrected emails that look most like the one
// being classified.
const (
	maxExamples     = 3
	maxCorrected    = 500  // the most recent corrections considered
	minSimilarity   = 0.08 // Jaccard of their words, below which none is shown
	exampleTextSize = 2 << 10
)

// examples caches the corrected emails for the LLM's prompt; a correction
// invalidates it.
type examples struct {
	mu     sync.Mutex
	loaded bool
	items  []exampleItem
}

type exampleItem struct {
	id    string
	words map[string]struct{}
	l     triage.Labelled
}

func (e *examples) invalidate() {
	e.mu.Lock()
	e.loaded = false
	e.items = nil
	e.mu.Unlock()
}

// examplesFor returns the labelled emails most like m, for an LLM
// classifier (the offline one learns corrections through its adaptive
// layer instead). Errors cost only the examples.
func (a *App) examplesFor(ctx context.Context, m *mail.Message) []triage.Labelled {
	if a.adaptive != nil {
		return nil
	}
	e := &a.examples
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded {
		e.items = a.loadExamples(ctx)
		e.loaded = true
	}
	if len(e.items) == 0 {
		return nil
	}
	words := wordSet(m.Subject, m.Text)
	type scored struct {
		sim float64
		l   triage.Labelled
	}
	var best []scored
	for _, it := range e.items {
		if it.id == m.ID {
			continue
		}
		if sim := jaccard(words, it.words); sim >= minSimilarity {
			best = append(best, scored{sim, it.l})
		}
	}
	sort.SliceStable(best, func(i, j int) bool { return best[i].sim > best[j].sim })
	out := make([]triage.Labelled, 0, min(len(best), maxExamples))
	for _, b := range best[:min(len(best), maxExamples)] {
		out = append(out, b.l)
	}
	return out
}

// loadExamples reads the most recent corrections with their emails.
func (a *App) loadExamples(ctx context.Context) []exampleItem {
	cs, err := a.db.Corrections(ctx)
	if err != nil {
		return nil
	}
	cs = cs[max(0, len(cs)-maxCorrected):]
	items := make([]exampleItem, 0, len(cs))
	for _, c := range cs {
		m, err := a.db.Message(ctx, c.EmailID)
		if err != nil {
			continue
		}
		text := m.Text
		if len(text) > exampleTextSize {
			text = text[:exampleTextSize]
		}
		items = append(items, exampleItem{id: c.EmailID, words: wordSet(m.Subject, text),
			l: triage.Labelled{Subject: m.Subject, Text: text, Intent: triage.Intent(c.Intent)}})
	}
	return items
}

// wordSet is the set of lowercased words of four letters or more in the
// subject and the start of the text.
func wordSet(subject, text string) map[string]struct{} {
	if len(text) > exampleTextSize {
		text = text[:exampleTextSize]
	}
	set := map[string]struct{}{}
	for _, w := range strings.FieldsFunc(strings.ToLower(subject+" "+text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) >= 4 {
			set[w] = struct{}{}
		}
	}
	return set
}

func jaccard(a, b map[string]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for w := range a {
		if _, ok := b[w]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}
