package triage

import "smista/mail"

// withDeterministicFlags merges the rule-based flags of m into a model's
// flags: a model may add flags, never remove one.
func withDeterministicFlags(m *mail.Message, c Context, model []Flag) []Flag {
	return MergeFlags(Flags(m, c), model)
}
