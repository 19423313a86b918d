// Command train regenerates the offline classifier's embedded weights
// (triage/model/offline.bin) from the training emails in triage/traindata
// (the *.tsv files of the generic SaaS domain and the product domains of
// traindata/domains) and, when SMISTA_CORPUS points at the SpamAssassin
// data, its easy-ham-1 (as other) and spam-1 (as spam) groups. easy-ham-2,
// hard-ham-1 and spam-2 are never read: they are held out for the accuracy
// report. Training is deterministic: the same inputs give the same bytes.
//
// With -eval lodo it trains once per product domain with that domain held
// out and scores the held-out domain (leave-one-domain-out); with -eval
// kfold it does the same over k folds of all written emails. Nothing is
// written then.
//
// Run it from the module root: go run ./triage/train
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"smista/triage"
)

func main() {
	data := flag.String("data", "triage/traindata", "directory of *.tsv training emails (and domains/*.txt)")
	out := flag.String("out", "triage/model/offline.bin", "weights file to write")
	eval := flag.String("eval", "", "evaluate instead of writing weights: lodo (leave one domain out) or kfold")
	k := flag.Int("k", 5, "folds for -eval kfold")
	verbose := flag.Bool("v", false, "with -eval: list every misread email")
	opts := triage.DefaultTrainOptions()
	flag.IntVar(&opts.MinDomains, "mindomains", opts.MinDomains, "keep words used in at least this many domains")
	flag.Float64Var(&opts.OOV, "oov", opts.OOV, "norm weight of an unknown word")
	flag.Float64Var(&opts.Subject, "subject", opts.Subject, "feature value of a subject word")
	flag.Float64Var(&opts.ReplySubject, "replysubject", opts.ReplySubject, "feature value of a reply's subject word")
	flag.BoolVar(&opts.Calibrate, "calibrate", opts.Calibrate, "fit the confidence calibrator on held-out domains")
	flag.BoolVar(&opts.OwnWordsOnly, "ownwords", opts.OwnWordsOnly, "vocabulary from written emails and corpus spam only")
	flag.Float64Var(&opts.CorpusShare, "corpusshare", opts.CorpusShare, "share of a class's weight its corpus emails get")
	flag.Float64Var(&opts.CorpusShareOther, "corpusshareother", opts.CorpusShareOther, "share of the other class's weight its corpus emails get (0: -corpusshare)")
	flag.Float64Var(&opts.L2, "l2", opts.L2, "weight decay per step")
	flag.IntVar(&opts.Epochs, "epochs", opts.Epochs, "passes of SGD")
	flag.Float64Var(&opts.CorpusCalShare, "corpuscal", opts.CorpusCalShare, "weight of the corpus among the calibrator's samples")
	flag.Float64Var(&opts.CalLift, "callift", opts.CalLift, "most the calibrator may raise the model's log-odds")
	flag.Parse()
	corpus := os.Getenv("SMISTA_CORPUS")
	var err error
	switch *eval {
	case "":
		err = run(*data, *out, corpus, opts)
	case "lodo", "kfold":
		err = evaluate(os.Stdout, *data, corpus, *eval, *k, *verbose, opts)
	default:
		err = fmt.Errorf("-eval %q: want lodo or kfold", *eval)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(dataDir, out, corpus string, opts triage.TrainOptions) error {
	docs, _, err := LoadTrainingSet(dataDir, corpus)
	if err != nil {
		return err
	}
	if corpus == "" {
		fmt.Fprintln(os.Stderr, "train: SMISTA_CORPUS is not set: training without the SpamAssassin corpus (the committed model uses it)")
	}
	start := time.Now()
	weights, rep, err := triage.Train(docs, opts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, weights, 0o644); err != nil {
		return fmt.Errorf("write weights: %w", err)
	}
	fmt.Printf("trained on %d emails in %s: %d words, %d bytes, temperature %.2f\n",
		len(docs), time.Since(start).Round(time.Millisecond), rep.Words, len(weights), rep.Temperature)
	fmt.Printf("calibration split: accuracy %.3f; %d scored ≥ 0.8, %d right (%.3f)\n",
		rep.CalAccuracy, rep.CalHigh, rep.CalHighRight, float64(rep.CalHighRight)/float64(max(rep.CalHigh, 1)))
	return nil
}
