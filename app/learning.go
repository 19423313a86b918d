package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"smista/mail"
	"smista/triage"
)

// ErrNoLearning is returned when the classifier has no adaptive layer to
// show, export or reset (an LLM provider).
var ErrNoLearning = errors.New("the configured classifier does not learn from corrections (the offline one does)")

// loadClassifier returns base, or the offline classifier when base is
// nil; an offline classifier gets its adaptive layer, loaded from the
// store. It runs once, when the first email is classified.
func (a *App) loadClassifier(base triage.Classifier) (triage.Classifier, error) {
	if base == nil {
		off, err := triage.NewOffline()
		if err != nil {
			return nil, fmt.Errorf("offline classifier: %w", err)
		}
		base = off
	}
	off, ok := base.(*triage.Offline)
	if !ok {
		return base, nil
	}
	ad := triage.NewAdaptive(off)
	data, err := a.db.AdaptiveLayer(context.Background())
	if err != nil {
		return nil, err
	}
	if data != nil {
		if err := ad.UnmarshalBinary(data); err != nil {
			// A layer this build cannot read is reported and set aside: the
			// base model still classifies, and new corrections rebuild it.
			a.notice("triage", fmt.Sprintf("the learned layer was not loaded: %v", err), true)
		}
	}
	a.adaptive = ad
	return off.WithAdaptive(ad), nil
}

// learner returns the adaptive layer, loading the classifier first.
func (a *App) learner() (*triage.Adaptive, error) {
	if _, err := a.classify(); err != nil {
		return nil, err
	}
	if a.adaptive == nil {
		return nil, ErrNoLearning
	}
	return a.adaptive, nil
}

// CorrectIntent records that who says an email is of intent: the inbox and
// the message view show it, and the offline classifier's adaptive layer
// learns it, from the next email on (stored with the correction, in one
// transaction). Decisions and the outbox are untouched: a correction is a
// label, never a second event; T and N decide. It fails with
// triage.ErrUnknownIntent or db.ErrNotFound.
func (a *App) CorrectIntent(ctx context.Context, emailID string, intent triage.Intent, who string) error {
	if !slices.Contains(triage.Intents, intent) {
		return fmt.Errorf("correct intent: %q: %w", intent, triage.ErrUnknownIntent)
	}
	m, err := a.db.Message(ctx, emailID)
	if err != nil {
		return fmt.Errorf("correct intent: %w", err)
	}
	var layer []byte
	a.learnMu.Lock()
	defer a.learnMu.Unlock()
	if ad, err := a.learner(); err == nil {
		if err := ad.Learn(m, intent); err != nil {
			return fmt.Errorf("correct intent: %w", err)
		}
		if layer, err = ad.MarshalBinary(); err != nil {
			return fmt.Errorf("correct intent: %w", err)
		}
	} else if !errors.Is(err, ErrNoLearning) {
		return fmt.Errorf("correct intent: %w", err)
	}
	if err := a.db.CorrectIntent(ctx, emailID, string(intent), who, layer); err != nil {
		return err
	}
	a.examples.invalidate()
	a.record(ctx, who, "corrected the intent to "+string(intent), "", emailID)
	a.changed(TopicTriage)
	return nil
}

// Learning is what the adaptive layer learned.
type Learning struct {
	// Corrections counts the corrections learned, by intent.
	Corrections map[triage.Intent]int
	// Words counts the distinct words (unknown to the base model) learned.
	Words int
}

// Learning returns what the adaptive layer learned. It fails with
// ErrNoLearning for a classifier that does not learn.
func (a *App) Learning() (Learning, error) {
	ad, err := a.learner()
	if err != nil {
		return Learning{}, err
	}
	l := Learning{Corrections: map[triage.Intent]int{}, Words: ad.Words()}
	for i, n := range ad.Corrections() {
		if n > 0 {
			l.Corrections[triage.Intents[i]] = n
		}
	}
	return l, nil
}

// ExportLearning returns the adaptive layer in its binary form (what the
// store keeps).
func (a *App) ExportLearning() ([]byte, error) {
	ad, err := a.learner()
	if err != nil {
		return nil, err
	}
	b, err := ad.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("export learning: %w", err)
	}
	return b, nil
}

// ResetLearning forgets what the adaptive layer learned; the corrections
// themselves stay (they label the store's mail for "smista eval").
func (a *App) ResetLearning(ctx context.Context) error {
	ad, err := a.learner()
	if err != nil {
		return err
	}
	a.learnMu.Lock()
	defer a.learnMu.Unlock()
	if err := a.db.ResetAdaptiveLayer(ctx); err != nil {
		return err
	}
	ad.Reset()
	a.record(ctx, "", "reset what triage learned", "", "")
	a.changed(TopicTriage)
	return nil
}

// Labelled returns the store's own labelled emails, for "smista eval
// --store": every email a person corrected, with that intent as the gold
// one; the gold ticket is the person's decision when one decided (T or N),
// else whether the corrected intent is support. Example.Human carries the
// person's decision.
func (a *App) Labelled(ctx context.Context) ([]triage.Example, error) {
	cs, err := a.db.Corrections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]triage.Example, 0, len(cs))
	for _, c := range cs {
		md, err := a.db.MessageDetail(ctx, c.EmailID)
		if err != nil {
			return nil, fmt.Errorf("labelled %s: %w", c.EmailID, err)
		}
		ex := triage.Example{Name: c.EmailID, Message: md.Message, Intent: triage.Intent(c.Intent),
			Ticket: triage.Intent(c.Intent) == triage.IntentSupport}
		if t := md.Triage; t != nil && t.DecidedBy != "" && t.DecidedBy != "engine" {
			ex.Human = triage.Action(t.Action)
			ex.Ticket = ex.Human == triage.ActionTicket
		}
		out = append(out, ex)
	}
	return out, nil
}

// LoadLabelled reads a folder of labelled emails for "smista eval": the
// labels file (file,intent,ticket,flags; "" means dir/labels.csv) and
// each email it names, parsed from dir ("" means the labels file's
// folder). It fails on a file it cannot read or a malformed labels file
// or email.
func LoadLabelled(dir, labelsPath string) ([]triage.Example, error) {
	if labelsPath == "" {
		labelsPath = filepath.Join(dir, "labels.csv")
	} else if dir == "" {
		dir = filepath.Dir(labelsPath)
	}
	data, err := os.ReadFile(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	labels, err := triage.ParseLabels(data)
	if err != nil {
		return nil, err
	}
	out := make([]triage.Example, 0, len(labels))
	for _, l := range labels {
		raw, err := os.ReadFile(filepath.Join(dir, l.File))
		if err != nil {
			return nil, fmt.Errorf("labelled email: %w", err)
		}
		msg, err := mail.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("labelled email %s: %w", l.File, err)
		}
		msg.ID = msg.StableID()
		out = append(out, triage.Example{Name: l.File, Message: msg, Intent: l.Intent, Ticket: l.Ticket, Flags: l.Flags})
	}
	return out, nil
}
