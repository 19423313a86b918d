package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"smista/mail"
	"smista/triage"
)

// LoadTrainingSet reads every *.tsv of dataDir, every domains/*.txt under
// it and, when corpus is not "", the SpamAssassin training groups under
// it. It returns the training emails and the product domains (which are
// among them) with their gold labels.
func LoadTrainingSet(dataDir, corpus string) ([]triage.KeyedDoc, []triage.DomainSet, error) {
	names, err := filepath.Glob(filepath.Join(dataDir, "*.tsv"))
	if err != nil || len(names) == 0 {
		return nil, nil, fmt.Errorf("training data: no *.tsv in %s", dataDir)
	}
	sort.Strings(names)
	var docs []triage.KeyedDoc
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, nil, fmt.Errorf("training data: %w", err)
		}
		ds, err := triage.ParseTrainTSV(filepath.Base(n), b)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, ds...)
	}
	sets, err := loadDomains(filepath.Join(dataDir, "domains"))
	if err != nil {
		return nil, nil, err
	}
	for _, set := range sets {
		for _, ex := range set.Examples {
			docs = append(docs, triage.KeyedDoc{Key: ex.Name,
				TrainDoc: triage.TrainDoc{Intent: ex.Intent, Message: ex.Message, Domain: set.Domain}})
		}
	}
	if corpus == "" {
		return docs, sets, nil
	}
	for _, g := range []struct {
		dir    string
		intent triage.Intent
	}{{"easy-ham-1", triage.IntentOther}, {"spam-1", triage.IntentSpam}} {
		ds, err := loadCorpus(filepath.Join(corpus, g.dir), g.dir, g.intent)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, ds...)
	}
	return docs, sets, nil
}

// loadDomains reads the product domains of dir (none when dir is absent).
func loadDomains(dir string) ([]triage.DomainSet, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, fmt.Errorf("domains: %w", err)
	}
	sort.Strings(names)
	var sets []triage.DomainSet
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("domains: %w", err)
		}
		set, err := triage.ParseDomainMail(filepath.Base(n), b)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// loadCorpus parses every *.txt message of a SpamAssassin group.
func loadCorpus(dir, group string, in triage.Intent) ([]triage.KeyedDoc, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
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
			TrainDoc: triage.TrainDoc{Intent: in, Message: m, Corpus: true, Domain: "corpus"}})
	}
	return out, nil
}
