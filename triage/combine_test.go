package triage_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"smista/mail"
	"smista/triage"
)

// funcClassifier adapts a function to triage.Classifier.
type funcClassifier func(ctx context.Context, m *mail.Message, c triage.Context) (triage.Result, error)

func (f funcClassifier) Classify(ctx context.Context, m *mail.Message, c triage.Context) (triage.Result, error) {
	return f(ctx, m, c)
}

func fixed(r triage.Result, err error) funcClassifier {
	return func(context.Context, *mail.Message, triage.Context) (triage.Result, error) {
		r.Notes = slices.Clone(r.Notes)
		r.Flags = slices.Clone(r.Flags)
		return r, err
	}
}

func TestCombined(t *testing.T) {
	llmSupport := triage.Result{Intent: triage.IntentSupport, Confidence: 0.95, Priority: triage.PriorityHigh,
		Summary: "llm summary", Language: "en", Draft: "llm draft", Model: "openai/x"}
	offSupport := triage.Result{Intent: triage.IntentSupport, Confidence: 0.7, Priority: triage.PriorityNormal,
		Summary: "offline summary", Language: "en", Draft: "offline draft", Model: "offline/1",
		Flags: []triage.Flag{triage.FlagPayments}}
	offSales := offSupport
	offSales.Intent, offSales.Flags = triage.IntentSales, nil
	llmBare := llmSupport
	llmBare.Summary, llmBare.Language, llmBare.Draft = "", "", ""

	cases := map[string]struct {
		llm, off     funcClassifier
		wantErr      bool
		wantModel    string
		wantDisagree bool
		wantNote     string
		wantFlags    []triage.Flag
		wantSummary  string
		wantAction   triage.Action
	}{
		"agree: the llm result, offline flags merged": {
			llm: fixed(llmSupport, nil), off: fixed(offSupport, nil),
			wantModel: "openai/x", wantFlags: []triage.Flag{triage.FlagPayments}, wantSummary: "llm summary",
			wantAction: triage.ActionDraft,
		},
		"disagree: marked, noted, no ticket": {
			llm: fixed(llmSupport, nil), off: fixed(offSales, nil),
			wantModel: "openai/x", wantDisagree: true, wantNote: "llm intent support, offline intent sales",
			wantSummary: "llm summary", wantAction: triage.ActionDraft,
		},
		"agree without flags: a ticket": {
			llm: fixed(llmSupport, nil), off: fixed(func() triage.Result { r := offSupport; r.Flags = nil; return r }(), nil),
			wantModel: "openai/x", wantSummary: "llm summary", wantAction: triage.ActionTicket,
		},
		"empty llm fields filled from offline": {
			llm: fixed(llmBare, nil), off: fixed(offSupport, nil),
			wantModel: "openai/x", wantFlags: []triage.Flag{triage.FlagPayments}, wantSummary: "offline summary",
			wantAction: triage.ActionDraft,
		},
		"llm error: offline result with note": {
			llm: fixed(triage.Result{}, errors.New("llm classify: http 500: llm gave no usable answer")), off: fixed(offSales, nil),
			wantModel: "offline/1", wantNote: "llm fallback: llm classify: http 500", wantSummary: "offline summary",
			wantAction: triage.ActionDraft,
		},
		"offline error: an error": {
			llm: fixed(llmSupport, nil), off: fixed(triage.Result{}, errors.New("boom")), wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := triage.NewCombined(tc.llm, tc.off).Classify(context.Background(), testMessage("m1"), triage.Context{})
			if tc.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Model != tc.wantModel || r.Disagree != tc.wantDisagree || r.Summary != tc.wantSummary {
				t.Errorf("model %q disagree %v summary %q; want %q %v %q", r.Model, r.Disagree, r.Summary,
					tc.wantModel, tc.wantDisagree, tc.wantSummary)
			}
			if tc.wantNote != "" && !hasNote(r, tc.wantNote) {
				t.Errorf("notes %q, want %q", r.Notes, tc.wantNote)
			}
			if tc.wantNote == "" && len(r.Notes) != 0 {
				t.Errorf("notes %q, want none", r.Notes)
			}
			if !slices.Equal(r.Flags, tc.wantFlags) {
				t.Errorf("flags %v, want %v", r.Flags, tc.wantFlags)
			}
			d := triage.Decide(r, triage.DefaultPolicy())
			if d.Action != tc.wantAction {
				t.Errorf("action %s (%v), want %s", d.Action, d.Reasons, tc.wantAction)
			}
			if tc.wantDisagree && !slices.ContainsFunc(d.Reasons, func(s string) bool { return strings.Contains(s, "offline intent") }) {
				t.Errorf("reasons %q do not say why", d.Reasons)
			}
		})
	}
}

// TestCombinedOverHTTP runs the real LLM (fake OpenAI server) with a stub
// offline classifier: the offline one always runs, and a fallback is not
// reported as a disagreement.
func TestCombinedOverHTTP(t *testing.T) {
	cases := map[string]struct {
		plan         []reply
		wantDisagree bool
		wantModel    string
	}{
		"llm says support, offline other": {plan: []reply{{content: validJSON}}, wantDisagree: true, wantModel: "openai/test-model"},
		"llm fails, offline used":         {plan: []reply{{status: 500}}, wantDisagree: false, wantModel: "offline/stub"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, openaiWire, tc.plan...)
			off := newStub()
			l, err := triage.NewLLM(f.config("test-model", off))
			if err != nil {
				t.Fatal(err)
			}
			r, err := triage.NewCombined(l, off).Classify(context.Background(), testMessage("m1"), triage.Context{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Disagree != tc.wantDisagree || r.Model != tc.wantModel {
				t.Errorf("disagree %v model %q, want %v %q (notes %q)", r.Disagree, r.Model, tc.wantDisagree, tc.wantModel, r.Notes)
			}
			if off.calls != 1 {
				t.Errorf("the offline classifier ran %d times, want once (it is also the fallback)", off.calls)
			}
			if d := triage.Decide(r, triage.DefaultPolicy()); d.Action == triage.ActionTicket {
				t.Errorf("ticket from %+v", r)
			}
		})
	}
}

func TestNewClassifier(t *testing.T) {
	c, err := triage.NewClassifier(triage.ClassifierConfig{Provider: "offline"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*triage.Offline); !ok {
		t.Errorf("offline provider gave %T", c)
	}
	f := newFake(t, openaiWire)
	c, err = triage.NewClassifier(triage.ClassifierConfig{
		Provider: "openai", Model: "test-model", BaseURL: f.srv.URL + "/v1", APIKey: testKey,
		Timeout: answerTimeout, HTTPClient: f.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*triage.Combined); !ok {
		t.Fatalf("openai provider gave %T", c)
	}
	r, err := c.Classify(context.Background(), testMessage("m1"), triage.Context{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "openai/test-model" || f.calls() != 1 {
		t.Errorf("model %q after %d calls", r.Model, f.calls())
	}
	if _, err := triage.NewClassifier(triage.ClassifierConfig{Provider: "gemini", Model: "x"}); !errors.Is(err, triage.ErrUnknownProvider) {
		t.Errorf("unknown provider: %v", err)
	}
}
