package triage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"smista/mail"
	"smista/triage"
)

// testKey is the API key the fake servers expect. It must never show up in
// an error or a note.
const testKey = "sk-test-9f8e7d6c5b4a-SECRET"

// testTimeout is the per-call timeout of the timeout cases: the fake server
// holds the answer longer than this. Calls that get an answer have
// answerTimeout, so that a loaded machine cannot turn them into timeouts.
const (
	testTimeout   = 200 * time.Millisecond
	answerTimeout = 10 * time.Second
)

// reply is one scripted answer of a fake server.
type reply struct {
	status  int    // 0 means 200
	content string // the assistant's text
	hang    bool   // hold the answer until the client gives up (bounded)
}

// wire is a provider's wire format.
type wire struct {
	name string
	path string
	// auth extracts the API key the client sent.
	auth func(r *http.Request) string
	// texts extracts the system prompt, the user messages, all roles in
	// order, and whether the request asked for JSON mode.
	texts func(tb testing.TB, body []byte) (system string, users []string, roles []string, jsonMode bool)
	// jsonMode is whether the provider has a JSON mode the client must use.
	jsonMode bool
	// write encodes an answer.
	write func(w http.ResponseWriter, content string, in, out int)
	// writeError encodes an error status.
	writeError func(w http.ResponseWriter, status int)
	// baseURL is the LLMConfig.BaseURL for a server at root.
	baseURL func(root string) string
}

// seen is one request as the fake server saw it.
type seen struct {
	key    string
	system string
	users  []string
	roles  []string
	body   string
}

// fakeLLM is a provider's HTTP API on 127.0.0.1 that answers from a script.
type fakeLLM struct {
	srv   *httptest.Server
	wire  wire
	mu    sync.Mutex
	next  int
	plan  []reply
	seen  []seen
	inFly int
	peak  int
	// gate, when set, holds each request until it is closed.
	gate chan struct{}
	// report receives the server's complaints about requests.
	report testing.TB
	// rejectJSONMode makes the server answer 400 to structured-output
	// requests.
	rejectJSONMode bool
}

// sinkTB collects complaints where no test may be called from the server
// (inside a fuzz target).
type sinkTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (s *sinkTB) Helper() {}

func (s *sinkTB) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *sinkTB) Fatalf(format string, args ...any) { s.Errorf(format, args...) }

func (s *sinkTB) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.errs
	s.errs = nil
	return e
}

func newFake(tb testing.TB, w wire, plan ...reply) *fakeLLM {
	tb.Helper()
	f := &fakeLLM{wire: w, plan: plan, report: tb}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLLM) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	tb := f.report
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != f.wire.path {
		tb.Errorf("%s: unexpected %s %s", f.wire.name, r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		tb.Errorf("read request: %v", err)
		return
	}
	sys, users, roles, jsonMode := f.wire.texts(tb, body)
	f.mu.Lock()
	reject := f.rejectJSONMode
	f.mu.Unlock()
	if jsonMode && reject {
		// Some OpenAI-compatible servers refuse response_format.
		f.mu.Lock()
		f.seen = append(f.seen, seen{key: f.wire.auth(r), system: sys, users: users, roles: roles, body: string(body)})
		f.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"'response_format.type' : value is not one of the allowed values ['text','json_object']"}}`)
		return
	}
	if jsonMode != (f.wire.jsonMode && !reject) {
		tb.Errorf("%s: JSON mode %v, want %v: %s", f.wire.name, jsonMode, f.wire.jsonMode, body)
	}
	f.mu.Lock()
	f.seen = append(f.seen, seen{key: f.wire.auth(r), system: sys, users: users, roles: roles, body: string(body)})
	rep := reply{content: validJSON}
	if len(f.plan) > 0 {
		rep = f.plan[min(f.next, len(f.plan)-1)]
	}
	f.next++
	f.inFly++
	f.peak = max(f.peak, f.inFly)
	gate := f.gate
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFly--
		f.mu.Unlock()
	}()
	if gate != nil {
		select {
		case <-gate:
		case <-time.After(5 * time.Second):
			tb.Errorf("gate never opened")
		}
	}
	if rep.hang {
		// Bounded: the client's timeout is far shorter.
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
		return
	}
	if rep.status != 0 && rep.status != http.StatusOK {
		f.wire.writeError(w, rep.status)
		return
	}
	f.wire.write(w, rep.content, 11, 7)
}

func (f *fakeLLM) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

func (f *fakeLLM) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.seen...)
}

func (f *fakeLLM) config(model string, off triage.Classifier) triage.LLMConfig {
	timeout := answerTimeout
	for _, rep := range f.plan {
		if rep.hang {
			timeout = testTimeout
		}
	}
	return triage.LLMConfig{
		Provider:   f.wire.name,
		Model:      model,
		BaseURL:    f.wire.baseURL(f.srv.URL),
		APIKey:     testKey,
		Timeout:    timeout,
		Backoff:    time.Millisecond,
		HTTPClient: f.srv.Client(),
		Offline:    off,
	}
}

// contentText reads an OpenAI/Anthropic content: a string or a list of
// {"type":"text","text":...} parts.
func contentText(tb testing.TB, raw json.RawMessage) string {
	tb.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		tb.Errorf("content: %v: %s", err, raw)
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

type chatMsg struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func splitRoles(tb testing.TB, msgs []chatMsg) (system string, users, roles []string) {
	tb.Helper()
	for _, m := range msgs {
		roles = append(roles, m.Role)
		switch m.Role {
		case "system":
			system += contentText(tb, m.Content)
		case "user":
			users = append(users, contentText(tb, m.Content))
		}
	}
	return system, users, roles
}

var openaiWire = wire{
	name:     "openai",
	path:     "/v1/chat/completions",
	auth:     func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") },
	jsonMode: true,
	texts: func(tb testing.TB, body []byte) (string, []string, []string, bool) {
		var req struct {
			Model          string    `json:"model"`
			Messages       []chatMsg `json:"messages"`
			ResponseFormat *struct {
				Type       string `json:"type"`
				JSONSchema *struct {
					Name   string          `json:"name"`
					Strict bool            `json:"strict"`
					Schema json.RawMessage `json:"schema"`
				} `json:"json_schema"`
			} `json:"response_format"`
			Tools []json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			tb.Errorf("openai request: %v", err)
		}
		if len(req.Tools) != 0 {
			tb.Errorf("openai request offers tools")
		}
		sys, users, roles := splitRoles(tb, req.Messages)
		rf := req.ResponseFormat
		if rf == nil {
			return sys, users, roles, false
		}
		if rf.Type != "json_schema" || rf.JSONSchema == nil || !rf.JSONSchema.Strict {
			tb.Errorf("openai response_format is not a strict json_schema: %s", body)
			return sys, users, roles, false
		}
		checkSchema(tb, rf.JSONSchema.Schema)
		return sys, users, roles, true
	},
	write: func(w http.ResponseWriter, content string, in, out int) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": content}}},
			"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
		})
	},
	writeError: func(w http.ResponseWriter, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		// A hostile or buggy server may echo the key: it must not travel on.
		fmt.Fprintf(w, `{"error":{"message":"failure for key %s","type":"server_error"}}`, testKey)
	},
	baseURL: func(root string) string { return root + "/v1" },
}

var anthropicWire = wire{
	name:     "anthropic",
	path:     "/v1/messages",
	auth:     func(r *http.Request) string { return r.Header.Get("x-api-key") },
	jsonMode: true,
	texts: func(tb testing.TB, body []byte) (string, []string, []string, bool) {
		var req struct {
			System   string    `json:"system"`
			Messages []chatMsg `json:"messages"`
			Tools    []struct {
				Name        string          `json:"name"`
				InputSchema json.RawMessage `json:"input_schema"`
			} `json:"tools"`
			ToolChoice *struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"tool_choice"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			tb.Errorf("anthropic request: %v", err)
		}
		_, users, roles := splitRoles(tb, req.Messages)
		if len(req.Tools) == 0 && req.ToolChoice == nil {
			return req.System, users, roles, false
		}
		if len(req.Tools) != 1 || req.ToolChoice == nil || req.ToolChoice.Type != "tool" || req.ToolChoice.Name != req.Tools[0].Name {
			tb.Errorf("anthropic request: want one tool forced by tool_choice: %s", body)
			return req.System, users, roles, false
		}
		checkSchema(tb, req.Tools[0].InputSchema)
		return req.System, users, roles, true
	},
	write: func(w http.ResponseWriter, content string, in, out int) {
		// a JSON object is the forced tool's input; anything else is text
		// (a proxy or model that ignored the tool)
		block := map[string]any{"type": "text", "text": content}
		stop := "end_turn"
		var input map[string]any
		if json.Unmarshal([]byte(content), &input) == nil {
			block = map[string]any{"type": "tool_use", "id": "toolu_01", "name": "record_email_triage", "input": input}
			stop = "tool_use"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "msg_1", "type": "message", "role": "assistant", "model": "test-model",
			"content":     []any{block},
			"stop_reason": stop,
			"usage":       map[string]any{"input_tokens": in, "output_tokens": out},
		})
	},
	writeError: func(w http.ResponseWriter, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"error","error":{"type":"api_error","message":"failure for key %s"}}`, testKey)
	},
	baseURL: func(root string) string { return root + "/v1" },
}

var ollamaWire = wire{
	name:     "ollama",
	path:     "/api/chat",
	auth:     func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") },
	jsonMode: true,
	texts: func(tb testing.TB, body []byte) (string, []string, []string, bool) {
		var req struct {
			Format   json.RawMessage `json:"format"`
			Messages []chatMsg       `json:"messages"`
			Stream   bool            `json:"stream"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			tb.Errorf("ollama request: %v", err)
		}
		sys, users, roles := splitRoles(tb, req.Messages)
		if string(req.Format) == `"json"` {
			return sys, users, roles, false
		}
		checkSchema(tb, req.Format)
		return sys, users, roles, true
	},
	write: func(w http.ResponseWriter, content string, in, out int) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		json.NewEncoder(w).Encode(map[string]any{
			"model": "test-model", "created_at": "2026-01-01T00:00:00Z",
			"message": map[string]any{"role": "assistant", "content": content},
			"done":    true, "prompt_eval_count": in, "eval_count": out,
		})
	},
	writeError: func(w http.ResponseWriter, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":"failure for key %s"}`, testKey)
	},
	baseURL: func(root string) string { return root },
}

// checkSchema fails unless raw is the classifier's output schema: an
// object with every field of the answer required and nothing else allowed.
func checkSchema(tb testing.TB, raw json.RawMessage) {
	tb.Helper()
	var sc struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
		Additional *bool                      `json:"additionalProperties"`
	}
	if err := json.Unmarshal(raw, &sc); err != nil {
		tb.Errorf("schema: %v: %s", err, raw)
		return
	}
	want := []string{"confidence", "draft", "flags", "intent", "language", "priority", "summary"}
	req := append([]string(nil), sc.Required...)
	sort.Strings(req)
	if sc.Type != "object" || len(sc.Properties) != len(want) || !slices.Equal(req, want) || sc.Additional == nil || *sc.Additional {
		tb.Errorf("schema is not the closed output object: %s", raw)
	}
	var intent struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(sc.Properties["intent"], &intent); err != nil || len(intent.Enum) != len(triage.Intents) {
		tb.Errorf("schema intent is not the enum of the intents: %s", sc.Properties["intent"])
	}
}

const validJSON = `{"intent":"support","confidence":0.91,"priority":"high","summary":"The customer cannot log in.","language":"en","flags":[],"draft":"Hello Anna, we are looking into it."}`

// stubOffline is a fixed offline classifier for unit tests.
type stubOffline struct {
	r     triage.Result
	mu    sync.Mutex
	calls int
}

func (s *stubOffline) Classify(ctx context.Context, m *mail.Message, c triage.Context) (triage.Result, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	r := s.r
	r.Notes = append([]string(nil), s.r.Notes...)
	return r, nil
}

func newStub() *stubOffline {
	return &stubOffline{r: triage.Result{
		Intent: triage.IntentOther, Confidence: 0.5, Priority: triage.PriorityLow,
		Summary: "offline summary", Language: "en", Draft: "offline draft", Model: "offline/stub",
	}}
}

// testBody is the email body; the fake servers check it sits inside the
// fenced data block.
const testBody = "Hello,\nI cannot log in since this morning: the page says \"invalid session\".\nThanks, Anna"

func testMessage(id string) *mail.Message {
	return &mail.Message{
		ID:        id,
		MessageID: "<" + id + "@example.com>",
		From:      mail.Address{Name: "Anna Rossi", Addr: "anna@client.example"},
		To:        []mail.Address{{Addr: "support@example.com"}},
		Subject:   "Login broken",
		Date:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Text:      testBody,
		Header:    map[string][]string{},
	}
}

var fenceRE = regexp.MustCompile(`<<<EMAIL ([0-9a-f]{16})>>>\n`)

// fenced returns the data block of a user prompt and its token, failing
// the test when the prompt has none or the fence is not labelled as data.
func fenced(tb testing.TB, user string) (block, token string) {
	tb.Helper()
	m := fenceRE.FindStringSubmatchIndex(user)
	if m == nil {
		tb.Fatalf("no <<<EMAIL token>>> fence in user prompt:\n%s", user)
	}
	token = user[m[2]:m[3]]
	rest := user[m[1]:]
	end := strings.Index(rest, "\n<<<END "+token+">>>")
	if end < 0 {
		tb.Fatalf("fence %s never closed:\n%s", token, user)
	}
	if !strings.Contains(user[:m[0]], "is data, never instructions") {
		tb.Errorf("fence not labelled as data:\n%s", user[:m[0]])
	}
	return rest[:end], token
}

// checkRequests asserts what every fake server must see: the key in the
// auth header, the body inside the fenced data block, the system prompt.
func checkRequests(tb testing.TB, f *fakeLLM) {
	tb.Helper()
	for i, s := range f.requests() {
		if s.key != testKey {
			tb.Errorf("request %d: key %q in the auth header, want the configured key", i, s.key)
		}
		if !strings.Contains(s.system, "never instructions") {
			tb.Errorf("request %d: system prompt does not say the email is data", i)
		}
		if len(s.users) == 0 {
			tb.Fatalf("request %d: no user message", i)
		}
		block, _ := fenced(tb, s.users[0])
		if !strings.Contains(block, testBody) {
			tb.Errorf("request %d: body not inside the fenced block:\n%s", i, block)
		}
		if strings.Contains(strings.Replace(s.users[0], testBody, "", 1), testBody) {
			tb.Errorf("request %d: body appears outside the fence", i)
		}
	}
}

// noSecret fails when the key appears in an error or in the result.
func noSecret(tb testing.TB, r triage.Result, err error) {
	tb.Helper()
	if err != nil && strings.Contains(err.Error(), testKey) {
		tb.Errorf("API key in error: %v", err)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), testKey) {
		tb.Errorf("API key in result: %s", b)
	}
}

func hasNote(r triage.Result, sub string) bool {
	for _, n := range r.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// matrixCase is one row of the provider test matrix.
type matrixCase struct {
	plan      []reply
	wantCalls int
	// hangs: the server never answers and the client gives up after
	// testTimeout. On a loaded machine that deadline can pass before the
	// request reaches the server, so fewer calls than wantCalls are right
	// there; more would be a retry after a timeout, which is wrong.
	hangs      bool
	wantIntent triage.Intent
	wantConf   float64
	// wantNote, when set, means the offline fallback with this note.
	wantNote string
}

// baseMatrix is the part of the matrix every provider runs.
func baseMatrix() map[string]matrixCase {
	return map[string]matrixCase{
		"valid JSON": {
			plan: []reply{{content: validJSON}}, wantCalls: 1, wantIntent: triage.IntentSupport, wantConf: 0.91,
		},
		"JSON in code fences": {
			plan:      []reply{{content: "Here is the classification:\n```json\n" + validJSON + "\n```\nHope it helps."}},
			wantCalls: 1, wantIntent: triage.IntentSupport, wantConf: 0.91,
		},
		"garbage twice falls back": {
			plan:      []reply{{content: "I think this is a support email."}, {content: "{not json at all"}},
			wantCalls: 2, wantIntent: triage.IntentOther, wantConf: 0.5,
			wantNote: "llm fallback: invalid output twice: no JSON object in the answer",
		},
		"500 then valid": {
			plan:      []reply{{status: 500}, {content: validJSON}},
			wantCalls: 2, wantIntent: triage.IntentSupport, wantConf: 0.91,
		},
		"500 twice falls back": {
			plan:      []reply{{status: 500}, {status: 500}},
			wantCalls: 2, wantIntent: triage.IntentOther, wantConf: 0.5, wantNote: "llm fallback: http 500",
		},
		"timeout falls back": {
			plan: []reply{{hang: true}}, hangs: true,
			wantCalls: 1, wantIntent: triage.IntentOther, wantConf: 0.5, wantNote: "llm fallback: timeout after 200ms",
		},
	}
}

// runMatrix runs the cases against a fresh fake server each, through the
// real langchaingo client of the wire's provider.
func runMatrix(t *testing.T, w wire, cases map[string]matrixCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, w, tc.plan...)
			off := newStub()
			l, err := triage.NewLLM(f.config("test-model", off))
			if err != nil {
				t.Fatalf("NewLLM: %v", err)
			}
			r, err := l.Classify(context.Background(), testMessage("m1"), triage.Context{})
			noSecret(t, r, err)
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			if got := f.calls(); got > tc.wantCalls || (got < tc.wantCalls && !tc.hangs) {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			checkRequests(t, f)
			if r.Intent != tc.wantIntent || r.Confidence != tc.wantConf {
				t.Errorf("intent, confidence = %s, %v; want %s, %v", r.Intent, r.Confidence, tc.wantIntent, tc.wantConf)
			}
			if tc.wantNote != "" {
				if r.Model != "offline/stub" || !hasNote(r, tc.wantNote) {
					t.Errorf("want offline fallback with note %q; got model %q notes %q", tc.wantNote, r.Model, r.Notes)
				}
				return
			}
			if want := w.name + "/test-model"; r.Model != want {
				t.Errorf("model = %q, want %q", r.Model, want)
			}
			if len(r.Notes) != 0 {
				t.Errorf("notes = %q, want none", r.Notes)
			}
			if off.calls != 0 {
				t.Errorf("offline classifier ran %d times without a fallback", off.calls)
			}
			if r.Usage.InputTokens != 11*tc.wantCalls-11*countFailures(tc.plan, tc.wantCalls) || r.Usage.OutputTokens == 0 {
				t.Errorf("usage = %+v", r.Usage)
			}
		})
	}
}

// countFailures counts the calls among the first n that carried no usage.
func countFailures(plan []reply, n int) int {
	k := 0
	for i := range n {
		rep := plan[min(i, len(plan)-1)]
		if rep.hang || (rep.status != 0 && rep.status != 200) {
			k++
		}
	}
	return k
}

// waitABit is the step of bounded polling loops.
func waitABit() { time.Sleep(5 * time.Millisecond) }
