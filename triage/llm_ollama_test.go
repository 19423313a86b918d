package triage_test

import (
	"net/http"
	"testing"

	"smista/triage"
)

func TestLLMOllamaMatrix(t *testing.T) {
	cases := baseMatrix()
	cases["invalid JSON then valid"] = matrixCase{
		plan:      []reply{{content: `{"intent":`}, {content: validJSON}},
		wantCalls: 2, wantIntent: triage.IntentSupport, wantConf: 0.91,
	}
	runMatrix(t, ollamaWire, cases)
}

// TestLLMOllamaEmptyErrorBody checks an error status with no body: the
// ollama client reports no error for it, the classifier must still see
// the status.
func TestLLMOllamaEmptyErrorBody(t *testing.T) {
	w := ollamaWire
	w.writeError = func(rw http.ResponseWriter, status int) { rw.WriteHeader(status) }
	runMatrix(t, w, map[string]matrixCase{
		"502 twice, empty bodies": {
			plan:      []reply{{status: 502}},
			wantCalls: 2, wantIntent: triage.IntentOther, wantConf: 0.5, wantNote: "llm fallback: http 502",
		},
	})
}
