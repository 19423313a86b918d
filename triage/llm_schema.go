package triage

import (
	"encoding/json"
	"fmt"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

// The structured output each provider is asked for, so the model's answer
// has the shape of llmOutput before parseOutput validates it anyway (a
// schema constrains the shape, never the judgement: an answer is still
// checked field by field and garbage still falls back):
//   - OpenAI (and compatible servers): response_format json_schema, strict;
//   - Anthropic: one tool whose input_schema is the output schema, with
//     tool_choice forcing it;
//   - Ollama: format set to the output schema.
//
// langchaingo v0.1.14 expresses the first (openai.WithResponseFormat) and
// the tool list of the second (llms.WithTools), not Anthropic's
// tool_choice nor a schema for Ollama's format (a string there): those two
// fields are set on the request body by the transport (bodyFields).

// schemaName names the output schema (OpenAI) and the tool (Anthropic).
const schemaName = "record_email_triage"

// schemaDescription tells the model what the tool or schema is for.
const schemaDescription = "Record the classification of the email between the markers."

// outputSchema returns the JSON schema of the answer: every field
// required, nothing else allowed (OpenAI's strict mode wants both).
func outputSchema() map[string]any {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	enum := func(desc string, vals ...string) map[string]any {
		return map[string]any{"type": "string", "description": desc, "enum": vals}
	}
	intents := make([]string, len(Intents))
	for i, in := range Intents {
		intents[i] = string(in)
	}
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"intent":     enum("what the email is", intents...),
			"confidence": map[string]any{"type": "number", "description": "how sure you are of the intent, between 0 and 1"},
			"priority":   enum("how urgent the email is", "low", "normal", "high", "urgent"),
			"summary":    str("one sentence that summarises the email, in the email's language"),
			"language":   str("the ISO 639-1 code of the email's language, e.g. en or it"),
			"flags": map[string]any{
				"type":        "array",
				"description": "any of the flags that apply, possibly none",
				"items":       enum("a flag", "payments", "legal", "vip", "injection"),
			},
			"draft": str("a short, polite reply to the sender, in the email's language"),
		},
		"required":             []string{"intent", "confidence", "priority", "summary", "language", "flags", "draft"},
		"additionalProperties": false,
	}
}

// openAIResponseFormat is outputSchema as OpenAI's strict json_schema
// response format, in langchaingo's types.
func openAIResponseFormat() *openai.ResponseFormat {
	type prop = openai.ResponseFormatJSONSchemaProperty
	str := func(desc string) *prop { return &prop{Type: "string", Description: desc} }
	enum := func(desc string, vals ...string) *prop {
		p := str(desc)
		for _, v := range vals {
			p.Enum = append(p.Enum, v)
		}
		return p
	}
	intents := make([]string, len(Intents))
	for i, in := range Intents {
		intents[i] = string(in)
	}
	return &openai.ResponseFormat{
		Type: "json_schema",
		JSONSchema: &openai.ResponseFormatJSONSchema{
			Name:   schemaName,
			Strict: true,
			Schema: &prop{
				Type: "object",
				Properties: map[string]*prop{
					"intent":     enum("what the email is", intents...),
					"confidence": {Type: "number", Description: "how sure you are of the intent, between 0 and 1"},
					"priority":   enum("how urgent the email is", "low", "normal", "high", "urgent"),
					"summary":    str("one sentence that summarises the email, in the email's language"),
					"language":   str("the ISO 639-1 code of the email's language, e.g. en or it"),
					"flags": {Type: "array", Description: "any of the flags that apply, possibly none",
						Items: enum("a flag", "payments", "legal", "vip", "injection")},
					"draft": str("a short, polite reply to the sender, in the email's language"),
				},
				Required:             []string{"intent", "confidence", "priority", "summary", "language", "flags", "draft"},
				AdditionalProperties: false,
			},
		},
	}
}

// anthropicTool is the one tool Anthropic is offered: its input is the
// answer.
func anthropicTool() llms.Tool {
	return llms.Tool{Type: "function", Function: &llms.FunctionDefinition{
		Name: schemaName, Description: schemaDescription, Parameters: outputSchema(),
	}}
}

// bodyFields are JSON fields the transport sets on a model request's body,
// for what langchaingo cannot express.
type bodyFields map[string]json.RawMessage

// structuredFields returns the body fields of a provider's structured
// mode: Anthropic's tool_choice forcing the tool, Ollama's format schema.
// It fails only if the schema cannot be encoded.
func structuredFields(provider string) (bodyFields, error) {
	var v any
	key := ""
	switch provider {
	case ProviderAnthropic:
		key, v = "tool_choice", map[string]any{"type": "tool", "name": schemaName}
	case ProviderOllama:
		key, v = "format", outputSchema()
	default:
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("output schema: %w", err)
	}
	return bodyFields{key: b}, nil
}
