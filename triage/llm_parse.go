package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Why a model answer was rejected. The texts end up in Result.Notes, so
// they never quote the answer itself: it is untrusted.
var (
	errNoJSON        = errors.New("no JSON object in the answer")
	errNoIntent      = errors.New("intent missing")
	errBadIntent     = errors.New("unknown intent")
	errNoConfidence  = errors.New("confidence missing")
	errBadConfidence = errors.New("confidence is not a number")
)

// Caps on what the model may put in a result.
const (
	maxSummaryRunes = 300
	maxDraftRunes   = 4000
	maxJSONTries    = 16
)

// llmOutput is a validated model answer. Its JSON form is what the cache
// stores.
type llmOutput struct {
	Intent     Intent   `json:"intent"`
	Confidence float64  `json:"confidence"`
	Priority   Priority `json:"priority"`
	Summary    string   `json:"summary"`
	Language   string   `json:"language"`
	Flags      []Flag   `json:"flags"`
	Draft      string   `json:"draft"`
}

// looseOutput accepts any JSON types, so a wrong type in one field is
// judged field by field instead of failing the whole answer; fields not
// listed are ignored.
type looseOutput struct {
	Intent     json.RawMessage `json:"intent"`
	Confidence json.RawMessage `json:"confidence"`
	Priority   json.RawMessage `json:"priority"`
	Summary    json.RawMessage `json:"summary"`
	Language   json.RawMessage `json:"language"`
	Flags      json.RawMessage `json:"flags"`
	Draft      json.RawMessage `json:"draft"`
}

// parseOutput extracts and validates the first JSON object in a model
// answer. Code fences and prose around the object are ignored. Rules:
//   - intent must be one of Intents (case-insensitive), else the answer is
//     invalid;
//   - confidence must be a number or a numeric string ("0.9", "90%"); it is
//     clamped into [0,1]; NaN or missing makes the answer invalid;
//   - an unknown or missing priority becomes "normal" (the priority does not
//     decide whether a ticket is emitted, so it is not worth a retry);
//   - unknown flags are dropped;
//   - summary is collapsed to one line, summary and draft are trimmed and
//     capped; language is reduced to a lowercase ISO 639 code or "".
func parseOutput(answer string) (llmOutput, error) {
	var lo looseOutput
	if !firstObject(answer, &lo) {
		return llmOutput{}, errNoJSON
	}
	var out llmOutput
	intent, ok := jsonString(lo.Intent)
	if !ok || strings.TrimSpace(intent) == "" {
		return llmOutput{}, errNoIntent
	}
	out.Intent = Intent(strings.ToLower(strings.TrimSpace(intent)))
	if !slices.Contains(Intents, out.Intent) {
		return llmOutput{}, errBadIntent
	}
	if len(lo.Confidence) == 0 || string(lo.Confidence) == "null" {
		return llmOutput{}, errNoConfidence
	}
	conf, ok := jsonNumber(lo.Confidence)
	if !ok {
		return llmOutput{}, errBadConfidence
	}
	out.Confidence = min(max(conf, 0), 1)

	out.Priority = PriorityNormal
	if p, ok := jsonString(lo.Priority); ok {
		switch p := Priority(strings.ToLower(strings.TrimSpace(p))); p {
		case PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent:
			out.Priority = p
		}
	}
	if s, ok := jsonString(lo.Summary); ok {
		out.Summary = capRunes(strings.Join(strings.Fields(s), " "), maxSummaryRunes)
	}
	if s, ok := jsonString(lo.Draft); ok {
		out.Draft = capRunes(strings.TrimSpace(s), maxDraftRunes)
	}
	if s, ok := jsonString(lo.Language); ok {
		out.Language = languageCode(s)
	}
	out.Flags = knownFlags(lo.Flags)
	return out, nil
}

// firstObject decodes into v the first '{' of s that starts a JSON object
// (the object may be followed by anything). It tries a bounded number of
// candidates, so prose with braces before the object is skipped.
func firstObject(s string, v *looseOutput) bool {
	for tries, off := 0, 0; tries < maxJSONTries; tries++ {
		i := strings.IndexByte(s[off:], '{')
		if i < 0 {
			return false
		}
		off += i
		dec := json.NewDecoder(strings.NewReader(s[off:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == nil {
			*v = looseOutput{}
			if json.Unmarshal(raw, v) == nil {
				return true
			}
		}
		off++
	}
	return false
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonNumber accepts a JSON number or a string holding one, optionally with
// a trailing "%" (then divided by 100).
func jsonNumber(raw json.RawMessage) (float64, bool) {
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f, true
	}
	s, ok := jsonString(raw)
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	if pct {
		f /= 100
	}
	return f, true
}

// knownFlags keeps the valid flags of a JSON list, sorted and unique.
func knownFlags(raw json.RawMessage) []Flag {
	var list []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(bytes.TrimSpace(raw), &list) != nil {
		return nil
	}
	var flags []Flag
	for _, r := range list {
		s, ok := jsonString(r)
		if !ok {
			continue
		}
		switch f := Flag(strings.ToLower(strings.TrimSpace(s))); f {
		case FlagPayments, FlagLegal, FlagVIP, FlagInjection:
			if !slices.Contains(flags, f) {
				flags = append(flags, f)
			}
		}
	}
	slices.Sort(flags)
	return flags
}

// languageCode reduces "en-US", "IT", "it_IT" to "en", "it"; anything that
// is not 2 or 3 ASCII letters becomes "".
func languageCode(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	if len(s) < 2 || len(s) > 3 {
		return ""
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return s
}

// capRunes cuts s to at most n runes, at a word boundary when one is near.
func capRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	if i := strings.LastIndexFunc(string(r), unicode.IsSpace); i > len(string(r))*3/4 {
		return strings.TrimSpace(string(r)[:i]) + "…"
	}
	return string(r) + "…"
}

// json renders a validated answer for the cache; parseOutput reads it back
// unchanged.
func (o llmOutput) json() string {
	b, _ := json.Marshal(o) // cannot fail: strings, a float in [0,1] and a slice
	return string(b)
}
