package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"slices"

	"smista/triage"
)

// evaluate trains with a part of the written emails held out and scores
// the held-out part with the decision engine: one fold per product domain
// (lodo), or k folds of the product domains' emails (kfold). It prints one
// line per fold and the pooled report.
func evaluate(w io.Writer, dataDir, corpus, mode string, k int, verbose bool, opts triage.TrainOptions) error {
	docs, sets, err := LoadTrainingSet(dataDir, corpus)
	if err != nil {
		return err
	}
	if len(sets) < 2 {
		return fmt.Errorf("evaluate: %d product domains, want at least 2", len(sets))
	}
	folds := lodoFolds(sets)
	if mode == "kfold" {
		folds = kFolds(sets, k)
	}
	var pooled []triage.Outcome
	for _, f := range folds {
		outs, err := runFold(docs, f, opts)
		if err != nil {
			return err
		}
		rep := triage.Score(outs, triage.EvalOptions{Policy: triage.DefaultPolicy()})
		fmt.Fprintf(w, "%-12s %3d emails: ticket precision %.3f recall %.3f (tp %d fp %d fn %d), intent accuracy %.3f\n",
			f.name, rep.Emails, rep.Tickets.Precision, rep.Tickets.Recall, rep.Tickets.TP, rep.Tickets.FP, rep.Tickets.FN, rep.IntentAccuracy)
		pooled = append(pooled, outs...)
	}
	fmt.Fprintf(w, "\n%s, pooled:\n%s", mode, triage.Score(pooled, triage.EvalOptions{Policy: triage.DefaultPolicy()}).Text())
	if verbose {
		printMisreads(w, pooled)
	}
	return nil
}

// printMisreads lists every wrong intent or ticket with its flags, notes
// and subject, to read the errors by.
func printMisreads(w io.Writer, outs []triage.Outcome) {
	fmt.Fprintln(w, "\nmisread, in detail:")
	for _, o := range outs {
		ticket := o.Decision.Action == triage.ActionTicket
		if o.Result.Intent == o.Intent && ticket == o.Ticket {
			continue
		}
		fmt.Fprintf(w, "%-14s gold %-7s %-3v %-22v got %-7s %.2f %-6s %-22v %q %q\n", o.Name, o.Intent, o.Ticket, o.Flags,
			o.Result.Intent, o.Result.Confidence, o.Decision.Action, o.Result.Flags, o.Message.Subject, o.Result.Notes)
	}
}

// fold is one evaluation round: the examples to score, and the keys of
// the training emails to leave out (the examples themselves, or their
// whole domain).
type fold struct {
	name    string
	test    []foldExample
	dropKey map[string]bool
	dropDom string
}

type foldExample struct {
	ex  triage.Example
	vip []string
}

func lodoFolds(sets []triage.DomainSet) []fold {
	var out []fold
	for _, s := range sets {
		f := fold{name: s.Domain, dropDom: s.Domain}
		for _, ex := range s.Examples {
			f.test = append(f.test, foldExample{ex, s.VIP})
		}
		out = append(out, f)
	}
	return out
}

// kFolds assigns every product-domain email to one of k folds by a hash of
// its name.
func kFolds(sets []triage.DomainSet, k int) []fold {
	k = max(k, 2)
	out := make([]fold, k)
	for i := range out {
		out[i] = fold{name: fmt.Sprintf("fold %d/%d", i+1, k), dropKey: map[string]bool{}}
	}
	for _, s := range sets {
		for _, ex := range s.Examples {
			h := fnv.New32a()
			h.Write([]byte(ex.Name))
			i := int(h.Sum32() % uint32(k))
			out[i].test = append(out[i].test, foldExample{ex, s.VIP})
			out[i].dropKey[ex.Name] = true
		}
	}
	return out
}

// runFold trains without the fold's emails and triages them.
func runFold(docs []triage.KeyedDoc, f fold, opts triage.TrainOptions) ([]triage.Outcome, error) {
	train := slices.DeleteFunc(slices.Clone(docs), func(d triage.KeyedDoc) bool {
		return d.Domain == f.dropDom && f.dropDom != "" || f.dropKey[d.Key]
	})
	weights, _, err := triage.Train(train, opts)
	if err != nil {
		return nil, fmt.Errorf("fold %s: %w", f.name, err)
	}
	c, err := triage.NewOfflineWeights(weights)
	if err != nil {
		return nil, fmt.Errorf("fold %s: %w", f.name, err)
	}
	var outs []triage.Outcome
	for _, t := range f.test {
		_, o, err := triage.Evaluate(context.Background(), c, []triage.Example{t.ex},
			triage.EvalOptions{Context: triage.Context{VIP: t.vip}, Policy: triage.DefaultPolicy()})
		if err != nil {
			return nil, fmt.Errorf("fold %s: %w", f.name, err)
		}
		outs = append(outs, o...)
	}
	return outs, nil
}
