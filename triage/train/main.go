// Command train regenerates the offline classifier's embedded weights
// (triage/model/offline.bin) from the training emails in triage/traindata
// and, when SMISTA_CORPUS points at the SpamAssassin data, its easy-ham-1
// (as other) and spam-1 (as spam) groups. easy-ham-2, hard-ham-1 and spam-2
// are never read: they are held out for the accuracy report. Training is
// deterministic: the same inputs give the same bytes.
//
// Run it from the module root: go run ./triage/train
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"smista/mail"
	"smista/triage"
)

func main() {
	data := flag.String("data", "triage/traindata", "directory of *.tsv training emails")
	out := flag.String("out", "triage/model/offline.bin", "weights file to write")
	flag.Parse()
	if err := run(*data, *out, os.Getenv("SMISTA_CORPUS")); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(dataDir, out, corpus string) error {
	docs, err := LoadTrainingSet(dataDir, corpus)
	if err != nil {
		return err
	}
	if corpus == "" {
		fmt.Fprintln(os.Stderr, "train: SMISTA_CORPUS is not set: training without the SpamAssassin corpus (the committed model uses it)")
	}
	var train, cal []triage.TrainDoc
	for _, d := range docs {
		switch triage.Split(d.Key) {
		case "train":
			train = append(train, d.TrainDoc)
		case "cal":
			cal = append(cal, d.TrainDoc)
		}
	}
	start := time.Now()
	weights, rep, err := triage.TrainOffline(train, cal, triage.DefaultTrainOptions())
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, weights, 0o644); err != nil {
		return fmt.Errorf("write weights: %w", err)
	}
	fmt.Printf("trained on %d emails (%d for calibration) in %s: %d words, %d bytes, temperature %.2f\n",
		len(train), len(cal), time.Since(start).Round(time.Millisecond), rep.Words, len(weights), rep.Temperature)
	fmt.Printf("calibration split: accuracy %.3f; %d scored ≥ 0.8, %d right (%.3f)\n",
		rep.CalAccuracy, rep.CalHigh, rep.CalHighRight, float64(rep.CalHighRight)/float64(max(rep.CalHigh, 1)))
	return nil
}

// LoadTrainingSet reads every *.tsv of dataDir and, when corpus is not "",
// the SpamAssassin training groups under it.
func LoadTrainingSet(dataDir, corpus string) ([]triage.KeyedDoc, error) {
	names, err := filepath.Glob(filepath.Join(dataDir, "*.tsv"))
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("training data: no *.tsv in %s", dataDir)
	}
	sort.Strings(names)
	var docs []triage.KeyedDoc
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("training data: %w", err)
		}
		ds, err := triage.ParseTrainTSV(filepath.Base(n), b)
		if err != nil {
			return nil, err
		}
		docs = append(docs, ds...)
	}
	if corpus == "" {
		return docs, nil
	}
	for _, g := range []struct {
		dir    string
		intent triage.Intent
	}{{"easy-ham-1", triage.IntentOther}, {"spam-1", triage.IntentSpam}} {
		ds, err := loadCorpus(filepath.Join(corpus, g.dir), g.dir, g.intent)
		if err != nil {
			return nil, err
		}
		docs = append(docs, ds...)
	}
	return docs, nil
}

// loadCorpus parses every *.txt message of a SpamAssassin group.
func loadCorpus(dir, group string, in triage.Intent) ([]triage.KeyedDoc, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("corpus %s: no *.txt messages", dir)
	}
	sort.Strings(names)
	var out []triage.KeyedDoc
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		m, err := mail.Parse(raw)
		if errors.Is(err, mail.ErrNotMail) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", n, err)
		}
		out = append(out, triage.KeyedDoc{Key: "sa:" + group + "/" + filepath.Base(n),
			TrainDoc: triage.TrainDoc{Intent: in, Message: m, Corpus: true}})
	}
	return out, nil
}
