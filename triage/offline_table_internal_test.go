package triage

import "testing"

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
}
