package triage

import (
	"slices"
	"testing"

	"smista/mail"
)

// TestReplyCut: the earlier message under a reply header or an Outlook
// block is not the sender's text; a plain body, even one with a line
// starting "From:", is.
func TestReplyCut(t *testing.T) {
	tests := map[string]struct {
		text, own string
	}{
		"plain":     {"The export fails.\nCan you check?", "The export fails.\nCan you check?"},
		"gmail":     {"Still failing.\n\nOn Mon, 3 Nov 2026, Ann <a@x.example> wrote:\n> try again", "Still failing.\n\n"},
		"wrapped":   {"Still failing.\n\nOn Mon, 3 Nov 2026 at 10:02, Support\n<s@x.example> wrote:\n> try again", "Still failing.\n\n"},
		"italian":   {"Ancora niente.\n\nIl giorno lun 3 nov 2026 Assistenza ha scritto:\n> riprovi", "Ancora niente.\n\n"},
		"outlook":   {"Fixed, thanks.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nPlease update.", "Fixed, thanks.\n\n"},
		"outlook2":  {"Fatto.\n\nDa: Assistenza\nInviato: lunedì\nOggetto: aggiornamento\n\nAggiorni l'app.", "Fatto.\n\n"},
		"from line": {"From: the settings page\nthe button does nothing.", "From: the settings page\nthe button does nothing."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.text[:replyCut(tc.text)]
			if got != tc.own {
				t.Errorf("own text %q, want %q", got, tc.own)
			}
		})
	}
}

// TestGluePairs: pairs of two articles or prepositions never become model
// features; pairs with a word of substance do.
func TestGluePairs(t *testing.T) {
	for _, p := range []string{"to_the", "of_the", "per_la", "della_la"} {
		if !gluePair(p) {
			t.Errorf("%s: want a glue pair", p)
		}
	}
	for _, p := range []string{"how_to", "can_you", "non_riesc", "the_app", "error"} {
		if gluePair(p) {
			t.Errorf("%s: not a glue pair", p)
		}
	}
	docs := []TrainDoc{}
	for range 4 {
		docs = append(docs, TrainDoc{Intent: IntentSupport, Message: &mail.Message{Subject: "Export", Text: "I went to the page and clicked to the export of the report"}})
	}
	vocab := buildVocab(docs, DefaultTrainOptions())
	if slices.Contains(vocab, "to_the") || !slices.Contains(vocab, "the_page") {
		t.Errorf("vocabulary %v: want the_page, not to_the", vocab)
	}
}
