package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"smista/triage"
)

var _ triage.Cache = (*DB)(nil)

// LLMCacheGet returns the cached model answer for k and whether there was
// one. It fails only when the store cannot be read.
func (d *DB) LLMCacheGet(ctx context.Context, k triage.CacheKey) (triage.CacheEntry, bool, error) {
	var e triage.CacheEntry
	err := d.r.QueryRowContext(ctx, `SELECT response, tokens_in, tokens_out FROM llm_cache
		WHERE message_id = ? AND model = ? AND prompt_version = ?`,
		k.MessageID, k.Model, k.PromptVersion).Scan(&e.Response, &e.Usage.InputTokens, &e.Usage.OutputTokens)
	if errors.Is(err, sql.ErrNoRows) {
		return triage.CacheEntry{}, false, nil
	}
	if err != nil {
		return triage.CacheEntry{}, false, fmt.Errorf("llm cache get: %w", err)
	}
	return e, true, nil
}

// LLMCachePut stores or replaces the model answer for k. It fails when the
// message is not stored (the cache row references it) or the write fails.
func (d *DB) LLMCachePut(ctx context.Context, k triage.CacheKey, e triage.CacheEntry) error {
	_, err := d.w.ExecContext(ctx, `INSERT INTO llm_cache
		(message_id, model, prompt_version, response, tokens_in, tokens_out, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_id, model, prompt_version) DO UPDATE SET
			response = excluded.response, tokens_in = excluded.tokens_in,
			tokens_out = excluded.tokens_out, created_at = excluded.created_at`,
		k.MessageID, k.Model, k.PromptVersion, e.Response, e.Usage.InputTokens, e.Usage.OutputTokens, d.nowMS())
	if err != nil {
		return fmt.Errorf("llm cache put: %w", err)
	}
	return nil
}
