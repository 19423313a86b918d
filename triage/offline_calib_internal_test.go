package triage

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"smista/mail"
)

// TestCalInputsConcentration checks the calibrator's concentration
// inputs: the share of the lead over the second intent that the strongest
// word and the three strongest words carry.
func TestCalInputsConcentration(t *testing.T) {
	md := &model{weights: make([]float32, 6*nIntents)}
	for i := range 6 {
		md.weights[i*nIntents] = 1 // every word says support equally
	}
	md.weights[0] = 7 // word 0 says it louder: 7 of 12
	p := [nIntents]float64{0.9, 0.02, 0.02, 0.02, 0.02, 0.02}
	one := &scan{feats: []feature{{0, 1}}}
	many := &scan{feats: []feature{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}}}
	if in := md.calInputs(&p, 0, one); in[4] != 1 || in[5] != 1 {
		t.Errorf("one word: concentration %.3f, %.3f; want 1, 1", in[4], in[5])
	}
	in := md.calInputs(&p, 0, many)
	if math.Abs(in[4]-7.0/12) > 1e-9 || math.Abs(in[5]-9.0/12) > 1e-9 {
		t.Errorf("six words: concentration %.3f, %.3f; want %.3f, %.3f", in[4], in[5], 7.0/12, 9.0/12)
	}
	if in := md.calInputs(&p, 0, &scan{}); in[4] != 1 || in[5] != 1 {
		t.Errorf("no evidence: concentration %.3f, %.3f; want 1, 1", in[4], in[5])
	}
}

// TestCalibratorDistrustsFewWords checks the embedded calibrator: the
// same probabilities are less sure when the lead rests on one word than
// when it is spread over many. It fails if the fit on held-out domains
// learnt the opposite.
func TestCalibratorDistrustsFewWords(t *testing.T) {
	md, err := decodeModel(embeddedWeights)
	if err != nil {
		t.Fatal(err)
	}
	if md.cal.isZero() {
		t.Fatal("the embedded model has no calibrator")
	}
	t.Logf("calibrator: %+v", md.cal)
	// twelve words that favour support over other
	sup, oth := 0, 5
	var top []int32
	for i := range md.words {
		if md.weights[i*nIntents+sup] > md.weights[i*nIntents+oth] {
			top = append(top, int32(i))
		}
		if len(top) == 12 {
			break
		}
	}
	p := [nIntents]float64{0.85, 0.01, 0.01, 0.01, 0.01, 0.11}
	spread := &scan{}
	for _, id := range top {
		spread.feats = append(spread.feats, feature{id, 1})
	}
	concentrated := &scan{feats: slices.Clone(spread.feats)}
	for i := range concentrated.feats[1:] {
		concentrated.feats[1+i].v = 0.01 // the first word carries the lead
	}
	cs, cc := md.confidence(&p, sup, spread), md.confidence(&p, sup, concentrated)
	if cc >= cs {
		t.Errorf("a lead on one word: confidence %.3f, not below the spread lead's %.3f", cc, cs)
	}
}

// TestUnfamiliarWordsLowerConfidence checks the whole offline path: the
// same support request with forty words the model never saw added is less
// sure than without them (an unknown word counts in the norm the model's
// evidence is divided by, and the calibrator may not raise the score for
// it).
func TestUnfamiliarWordsLowerConfidence(t *testing.T) {
	o, err := NewOffline()
	if err != nil {
		t.Fatal(err)
	}
	text := "hi, quick question about the export we discussed, is it possible?"
	var odd strings.Builder
	for i := range 40 {
		fmt.Fprintf(&odd, " zq%cv%cxu", 'a'+i%26, 'a'+i/26)
	}
	plain, err := o.Classify(context.Background(), &mail.Message{Subject: "question", Text: text}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	unfamiliar, err := o.Classify(context.Background(), &mail.Message{Subject: "question", Text: text + odd.String()}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Intent != IntentSupport || unfamiliar.Intent != IntentSupport {
		t.Fatalf("intents %s, %s; want support", plain.Intent, unfamiliar.Intent)
	}
	if unfamiliar.Confidence >= plain.Confidence {
		t.Errorf("with forty unknown words: confidence %.3f, not below %.3f", unfamiliar.Confidence, plain.Confidence)
	}
	t.Logf("confidence %.3f, with forty unknown words %.3f", plain.Confidence, unfamiliar.Confidence)
}
