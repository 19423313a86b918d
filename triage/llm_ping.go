package triage

import (
	"context"
	"errors"
	"fmt"

	"github.com/tmc/langchaingo/llms"
)

// ErrNoLLM is returned by Ping when the classifier asks no model.
var ErrNoLLM = errors.New("no LLM configured")

// Ping asks the model for one token ("smista doctor": does the provider
// answer, with this key and this model?). Its error is a call error: a
// status or a class, never the provider's message.
func (l *LLM) Ping(ctx context.Context) error {
	msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "Reply with the single word OK.")}
	info := &callInfo{}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, callInfoKey{}, info), l.timeout)
	defer cancel()
	_, err := l.plainModel.GenerateContent(cctx, msgs, llms.WithMaxTokens(1))
	switch {
	case info.status >= 400:
		return fmt.Errorf("ping %s: %w", l.name, &callError{status: info.status, retryAfter: info.retryAfter})
	case err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("ping %s: %w", l.name, &callError{class: "timeout after " + l.timeout.String()})
	case err != nil:
		return fmt.Errorf("ping %s: %w", l.name, &callError{class: "request failed"})
	}
	return nil
}

// Ping asks the combined classifier's model for one token; ErrNoLLM when
// it has none.
func (cb *Combined) Ping(ctx context.Context) error {
	if l, ok := cb.llm.(*LLM); ok {
		return l.Ping(ctx)
	}
	return ErrNoLLM
}
