package triage_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"smista/triage"
)

// jargonSet returns the learning set (a brewery product's support mail in
// its own jargon, which the base model misreads) split into the stream a
// human corrects and the emails measured: every third email is measured.
func jargonSet(tb testing.TB) (learn, measure []triage.Example) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "learning", "mosto.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	set, err := triage.ParseDomainMail("mosto.txt", b)
	if err != nil {
		tb.Fatal(err)
	}
	for i, ex := range set.Examples {
		if i%3 == 2 {
			measure = append(measure, ex)
		} else {
			learn = append(learn, ex)
		}
	}
	return learn, measure
}

func evalWith(tb testing.TB, c triage.Classifier, ex []triage.Example, vip []string) triage.Report {
	tb.Helper()
	rep, _, err := triage.Evaluate(context.Background(), c, ex, triage.EvalOptions{Context: triage.Context{VIP: vip}, Policy: triage.DefaultPolicy()})
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

// TestAdaptiveLearning is the learning test of issue 11: a stream of
// support requests in a product's own jargon, which the base model
// misreads; a human corrects K of them; the rest of that kind is measured
// before and after K = 5, 10, 20. Accuracy on the kind must rise with K,
// and the ticket precision on the held-out sets and the labelled set must
// not drop.
func TestAdaptiveLearning(t *testing.T) {
	base := mustOffline(t)
	learn, measure := jargonSet(t)
	if len(learn) < 20 || len(measure) < 10 {
		t.Fatalf("learning set too small: %d to learn, %d to measure", len(learn), len(measure))
	}
	type other struct {
		name string
		ex   []triage.Example
		vip  []string
	}
	var others []other
	sets, _ := filepath.Glob(filepath.Join(heldoutDir, "*", "labels.csv"))
	for _, labels := range sets {
		dir := filepath.Dir(labels)
		others = append(others, other{"held-out " + filepath.Base(dir), loadLabelled(t, labels, dir), setVIP(t, dir)})
	}
	others = append(others, other{"labelled", loadLabelled(t, filepath.Join(testdataDir, "labels.csv"), filepath.Join(testdataDir, "labelled")), readmeVIP(t)})
	before := evalWith(t, base, measure, nil).IntentAccuracy
	baseOthers := make([]triage.Report, len(others))
	for i, o := range others {
		baseOthers[i] = evalWith(t, base, o.ex, o.vip)
	}
	t.Logf("K=0: accuracy on the jargon kind %.3f (%d emails)", before, len(measure))
	prev := before
	for _, k := range []int{5, 10, 20} {
		a := triage.NewAdaptive(base)
		for _, ex := range learn[:k] {
			if err := a.Learn(ex.Message, ex.Intent); err != nil {
				t.Fatal(err)
			}
		}
		c := base.WithAdaptive(a)
		acc := evalWith(t, c, measure, nil).IntentAccuracy
		t.Logf("K=%d: accuracy on the jargon kind %.3f (%d words learned)", k, acc, a.Words())
		if acc < prev {
			t.Errorf("K=%d: accuracy %.3f fell below %.3f", k, acc, prev)
		}
		prev = acc
		for i, o := range others {
			rep := evalWith(t, c, o.ex, o.vip)
			b := baseOthers[i].Tickets
			t.Logf("   %s: ticket precision %.3f (was %.3f), recall %.3f (was %.3f), intent accuracy %.3f (was %.3f)",
				o.name, rep.Tickets.Precision, b.Precision, rep.Tickets.Recall, b.Recall, rep.IntentAccuracy, baseOthers[i].IntentAccuracy)
			if rep.Tickets.Precision < b.Precision {
				t.Errorf("K=%d: %s ticket precision %.3f < %.3f without the layer", k, o.name, rep.Tickets.Precision, b.Precision)
			}
		}
	}
	if prev < before+0.25 {
		t.Errorf("after 20 corrections accuracy on the kind is %.3f, want at least %.3f", prev, before+0.25)
	}
}

func TestAdaptiveEmptyChangesNothing(t *testing.T) {
	base := mustOffline(t)
	c := base.WithAdaptive(triage.NewAdaptive(base))
	_, measure := jargonSet(t)
	for _, ex := range append(measure, triage.Example{Message: benchEmails()[0]}) {
		want := classify(t, base, ex.Message, triage.Context{})
		if got := classify(t, c, ex.Message, triage.Context{}); got.Intent != want.Intent || got.Confidence != want.Confidence || len(got.Notes) != len(want.Notes) {
			t.Errorf("%s: empty layer changed %s %.3f into %s %.3f", ex.Name, want.Intent, want.Confidence, got.Intent, got.Confidence)
		}
	}
}

func TestAdaptiveMarshalResetErrors(t *testing.T) {
	base := mustOffline(t)
	learn, measure := jargonSet(t)
	a := triage.NewAdaptive(base)
	for _, ex := range learn[:10] {
		if err := a.Learn(ex.Message, ex.Intent); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Learn(learn[0].Message, "complaint"); !errors.Is(err, triage.ErrUnknownIntent) {
		t.Errorf("unknown intent: %v", err)
	}
	blob, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.MarshalBinary()
	if !bytes.Equal(blob, again) {
		t.Error("two encodings of one layer differ")
	}
	b := triage.NewAdaptive(base)
	if err := b.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	if b.Corrections() != a.Corrections() || b.Words() != a.Words() || a.Words() == 0 {
		t.Errorf("round trip: %v %d words, want %v %d", b.Corrections(), b.Words(), a.Corrections(), a.Words())
	}
	ca, cb := base.WithAdaptive(a), base.WithAdaptive(b)
	for _, ex := range measure {
		ra, rb := classify(t, ca, ex.Message, triage.Context{}), classify(t, cb, ex.Message, triage.Context{})
		if ra.Intent != rb.Intent || ra.Confidence != rb.Confidence {
			t.Errorf("%s: %s %.3f before the round trip, %s %.3f after", ex.Name, ra.Intent, ra.Confidence, rb.Intent, rb.Confidence)
		}
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     []byte("SMISTA-OTHER\n"),
		"truncated": blob[:len(blob)-3],
		"trailing":  append(slices.Clone(blob), 0),
	} {
		if err := b.UnmarshalBinary(bad); !errors.Is(err, triage.ErrBadAdaptive) {
			t.Errorf("%s: err %v, want ErrBadAdaptive", name, err)
		}
	}
	if b.Words() != a.Words() {
		t.Error("a failed UnmarshalBinary changed the layer")
	}
	b.Reset()
	if b.Words() != 0 || b.Corrections() != [6]int{} {
		t.Errorf("after Reset: %d words, %v corrections", b.Words(), b.Corrections())
	}
	ra, rb := classify(t, base, measure[0].Message, triage.Context{}), classify(t, cb, measure[0].Message, triage.Context{})
	if ra.Intent != rb.Intent || ra.Confidence != rb.Confidence {
		t.Errorf("a reset layer still changes %s", measure[0].Name)
	}
}

// TestAdaptiveConcurrent learns while other goroutines classify (run with
// -race).
func TestAdaptiveConcurrent(t *testing.T) {
	base := mustOffline(t)
	learn, measure := jargonSet(t)
	a := triage.NewAdaptive(base)
	c := base.WithAdaptive(a)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := range 40 {
				m := measure[(i+w)%len(measure)].Message
				if _, err := c.Classify(context.Background(), m, triage.Context{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for _, ex := range learn {
			if err := a.Learn(ex.Message, ex.Intent); err != nil {
				t.Error(err)
			}
		}
		if _, err := a.MarshalBinary(); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	if got := a.Corrections()[0]; got != len(learn) {
		t.Errorf("%d support corrections, want %d", got, len(learn))
	}
}

// BenchmarkClassifyOfflineAdaptive is BenchmarkClassifyOffline with an
// adaptive layer that learned 20 corrections.
func BenchmarkClassifyOfflineAdaptive(b *testing.B) {
	base := mustOffline(b)
	learn, _ := jargonSet(b)
	a := triage.NewAdaptive(base)
	for _, ex := range learn[:20] {
		if err := a.Learn(ex.Message, ex.Intent); err != nil {
			b.Fatal(err)
		}
	}
	benchClassify(b, base.WithAdaptive(a))
}
