package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"smista/internal/skipnote"
	"smista/triage"
)

// TestReproducesEmbeddedWeights: the committed weights are exactly what the
// committed tool makes from the committed data (and the corpus).
func TestReproducesEmbeddedWeights(t *testing.T) {
	corpus := skipnote.Corpus(t, "the check that the embedded weights reproduce (TestReproducesEmbeddedWeights)", "easy-ham-1")
	if testing.Short() {
		t.Skip("SKIP: -short")
	}
	out := filepath.Join(t.TempDir(), "offline.bin")
	if err := run("../traindata", out, corpus, triage.DefaultTrainOptions()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../model/offline.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("go run ./triage/train makes %d bytes that differ from the committed triage/model/offline.bin (%d bytes): regenerate it", len(got), len(want))
	}
}

func TestLoadTrainingSetErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadTrainingSet(dir, ""); err == nil {
		t.Error("empty dir: no error")
	}
	if err := os.WriteFile(filepath.Join(dir, "x.tsv"), []byte("bogus\tsubject\tbody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadTrainingSet(dir, ""); err == nil {
		t.Error("unknown intent: no error")
	}
	if err := os.WriteFile(filepath.Join(dir, "x.tsv"), []byte("# c\n\nsupport\tsubject\tline one\\nline two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	docs, _, err := LoadTrainingSet(dir, "")
	if err != nil || len(docs) != 1 || docs[0].Message.Text != "line one\nline two" {
		t.Errorf("%v %+v", err, docs)
	}
}
