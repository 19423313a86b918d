package triage

import (
	"strings"
	"testing"
)

// TestWordTableAnswersAsTheMap checks the scan's word table against the
// lexicon's map: every word finds its id, and every near miss (a prefix,
// the word with a byte more or changed, a pair of it) answers as the map
// does, so that the table cannot change a classification.
func TestWordTableAnswersAsTheMap(t *testing.T) {
	md, err := decodeModel(embeddedWeights)
	if err != nil {
		t.Fatal(err)
	}
	lx := newLexicon(md.words, md.shape)
	if len(lx.words) < 1000 {
		t.Fatalf("lexicon of %d words: the model did not load", len(lx.words))
	}
	check := func(w string) {
		t.Helper()
		want, wok := lx.words[w]
		got, gok := lx.table.get([]byte(w), fnvMore(fnvOffset, []byte(w)))
		if gok != wok || (wok && got != want) {
			t.Fatalf("table[%q] = %d, %v; the map says %d, %v", w, got, gok, want, wok)
		}
	}
	misses := 0
	for w := range lx.words {
		check(w)
		for _, near := range []string{w[:len(w)/2], w + "s", "x" + w, w + string(bigramSep) + w, string(w[0]^1) + w[1:]} {
			if _, ok := lx.words[near]; !ok {
				misses++
			}
			check(near)
		}
	}
	check("")
	if misses == 0 {
		t.Fatal("no near miss was looked up")
	}
	// the filter never rules out a word of the lexicon
	passed := 0
	for w := range lx.words {
		if !lx.known.has(fnvMore(fnvOffset, []byte(w))) {
			t.Fatalf("the filter rules out %q, a word of the lexicon", w)
		}
		if lx.known.has(fnvMore(fnvOffset, []byte(w+"zq"))) {
			passed++
		}
	}
	t.Logf("%d of %d keys not in the lexicon pass the filter", passed, len(lx.words))
}

// TestHasLowerPrefixIsToLowerThenHasPrefix: the prefix check that lowers
// nothing answers as lowering the line first would, non-ASCII lines
// ("İl giorno", the Kelvin sign, a BOM) and short ones included.
func TestHasLowerPrefixIsToLowerThenHasPrefix(t *testing.T) {
	lines := []string{"", "o", "On", "ON Mon, Jane wrote:", "on ", "Il giorno lun", "İl giorno", "IL ", "In Data 3",
		"\u212a", "\ufeffFrom: x", "FROM:", "Da: Mario", "dA:", "Sent: now", "from", "Frоm:" /* Cyrillic о */, "ße", "ÀON"}
	for _, s := range lines {
		for _, p := range []string{"on ", "il giorno ", "il ", "in data ", "from:", "da:", "sent:", "date:", "inviato:", "data:", "k"} {
			want := strings.HasPrefix(strings.ToLower(s), p)
			if got := hasLowerPrefix(s, p); got != want {
				t.Errorf("hasLowerPrefix(%q, %q) = %v, want %v", s, p, got, want)
			}
		}
	}
}
