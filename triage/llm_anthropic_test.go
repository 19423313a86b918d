package triage_test

import (
	"context"
	"testing"

	"smista/triage"
)

func TestLLMAnthropicMatrix(t *testing.T) {
	cases := baseMatrix()
	cases["429 twice falls back"] = matrixCase{
		plan:      []reply{{status: 429}, {status: 429}},
		wantCalls: 2, wantIntent: triage.IntentOther, wantConf: 0.5, wantNote: "llm fallback: http 429",
	}
	cases["unknown intent twice falls back"] = matrixCase{
		plan:      []reply{{content: `{"intent":"complaint","confidence":0.9}`}},
		wantCalls: 2, wantIntent: triage.IntentOther, wantConf: 0.5,
		wantNote: "llm fallback: invalid output twice: unknown intent",
	}
	runMatrix(t, anthropicWire, cases)
}

// TestLLMAnthropicProse checks the answer without JSON mode: Anthropic has
// none, so prose around the object must be tolerated.
func TestLLMAnthropicProse(t *testing.T) {
	f := newFake(t, anthropicWire, reply{content: "Sure! {this is not it} The answer is " + validJSON + " — let me know."})
	l, err := triage.NewLLM(f.config("claude-test", newStub()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Classify(context.Background(), testMessage("m1"), triage.Context{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Intent != triage.IntentSupport || r.Model != "anthropic/claude-test" || f.calls() != 1 {
		t.Errorf("got %s from %s in %d calls", r.Intent, r.Model, f.calls())
	}
	if r.Usage != (triage.Usage{InputTokens: 11, OutputTokens: 7}) {
		t.Errorf("usage = %+v", r.Usage)
	}
}
