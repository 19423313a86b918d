package triage

import (
	"strings"
	"testing"

	"smista/mail"
)

// TestLongQuestion: an email read as other becomes support (to confirm)
// only when it asks a question in at least minLongQuestion words of its
// own and the model gives support at least minSupportShare; a short note,
// one without a question (or whose question is only quoted) and one the
// model finds no request stay other.
func TestLongQuestion(t *testing.T) {
	long := strings.Repeat("we moved the tables for the event and the tablets show the old plan ", 5)
	other, support := indexOf(IntentOther), indexOf(IntentSupport)
	var p [nIntents]float64
	p[other], p[support] = 0.66, 0.34
	for name, c := range map[string]struct {
		text  string
		words int
		sup   float64
		want  bool
	}{
		"long question":       {long + "\nWhy did the tablets go back to the old plan?", 70, 0.34, true},
		"short question":      {"Lunch on Friday? Let me know.", 6, 0.34, false},
		"no question":         {long, 70, 0.34, false},
		"quoted question":     {long + "\n\nOn Mon, Ann <a@x.example> wrote:\n> Why did it fail?", 70, 0.34, false},
		"model finds no need": {long + "\nWhy did the tablets go back to the old plan?", 70, 0.05, false},
	} {
		t.Run(name, func(t *testing.T) {
			q := p
			q[support], q[other] = c.sup, 1-c.sup
			s := &scan{bodyWords: c.words}
			if got := longQuestion(&mail.Message{Text: c.text}, s, &q, other); got != c.want {
				t.Errorf("longQuestion = %v, want %v", got, c.want)
			}
		})
	}
	s := &scan{bodyWords: 70}
	if longQuestion(&mail.Message{Text: long + "?"}, s, &p, support) {
		t.Error("an email the model already read as support was re-read")
	}
}
