package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"smista/mail"
	"smista/mail/mailtest"
)

// benchCorpus loads the SpamAssassin corpus, or skips b loudly.
func benchCorpus(b *testing.B) *mailtest.Corpus {
	b.Helper()
	dir := os.Getenv("SMISTA_CORPUS")
	if dir == "" {
		b.Skip("SMISTA_CORPUS not set: the corpus benchmarks did NOT run")
	}
	c, err := mailtest.LoadCorpus(dir)
	if errors.Is(err, mailtest.ErrNoCorpus) {
		b.Skipf("SMISTA_CORPUS=%s holds no corpus", dir)
	}
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// storeCorpus stores messages 0 … n-1 of c in batches of 1,000, parsed
// as a sync parses them; with inline, each batch's bodies go into the
// body index in the transaction that stores the batch (parsed before it,
// on every core, as the raw mail is compressed before it).
func storeCorpus(ctx context.Context, d *DB, c *mailtest.Corpus, n int, inline bool) error {
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		msgs := make([]*mail.Message, min(batch, n-lo))
		for i := range msgs {
			m, err := mail.ParseHeader(c.Message(lo + i))
			if err != nil {
				return err
			}
			msgs[i] = m
		}
		if !inline {
			if _, err := d.SaveMessages(ctx, "bench", msgs); err != nil {
				return err
			}
			continue
		}
		if err := saveIndexed(ctx, d, msgs); err != nil {
			return err
		}
	}
	return nil
}

// saveIndexed is SaveMessages with the bodies indexed in its transaction:
// the design the issue proposed, measured against storing alone.
func saveIndexed(ctx context.Context, d *DB, msgs []*mail.Message) error {
	todo := make([]indexedBody, len(msgs))
	for i, m := range msgs {
		todo[i].raw = m.Raw
	}
	bodyTexts(todo)
	ins, err := d.prepareInsert(ctx, msgs, nil)
	if err != nil {
		return err
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := ins.run(ctx, tx, "bench", d.nowMS()); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO messages_body (rowid, body) SELECT seq, ? FROM messages WHERE id = ?`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, m := range msgs {
		if !ins.isNew[i] {
			continue
		}
		if _, err := st.ExecContext(ctx, todo[i].text, m.StableID()); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE search_state SET body_seq = (SELECT MAX(seq) FROM messages)`); err != nil {
		return err
	}
	return tx.Commit()
}

// BenchmarkStoreWithBodyIndex stores 6,000 corpus messages into a fresh
// store: alone (as a sync stores them today), with each batch's bodies
// indexed in the same transaction, and alone then indexed afterwards by
// IndexSearch (the background indexer's work, timed apart). msgs/s is
// what to compare.
func BenchmarkStoreWithBodyIndex(b *testing.B) {
	c := benchCorpus(b)
	n := min(6000, c.Len())
	ctx := context.Background()
	open := func(b *testing.B) *DB {
		b.StopTimer()
		defer b.StartTimer()
		d, err := Open(ctx, filepath.Join(b.TempDir(), "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	for _, mode := range []string{"store alone", "store, bodies indexed in the same transaction", "background IndexSearch after the store"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				d := open(b)
				if mode == "background IndexSearch after the store" {
					b.StopTimer()
					if err := storeCorpus(ctx, d, c, n, false); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					for {
						k, err := d.IndexSearch(ctx, 5000)
						if err != nil {
							b.Fatal(err)
						}
						if k == 0 {
							break
						}
					}
				} else if err := storeCorpus(ctx, d, c, n, mode != "store alone"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				d.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkBodyIndexSize indexes the corpus's bodies (6,000 messages) in
// the word index of migration 0010 and, to compare, in a trigram index of
// the same text, and reports each one's size per 1,000 messages (the
// pages of its tables, from dbstat) and the raw mail's.
func BenchmarkBodyIndexSize(b *testing.B) {
	c := benchCorpus(b)
	n := min(6000, c.Len())
	ctx := context.Background()
	for b.Loop() {
		d, err := Open(ctx, filepath.Join(b.TempDir(), "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := storeCorpus(ctx, d, c, n, false); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for {
			k, err := d.IndexSearch(ctx, 5000)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
		}
		b.ReportMetric(time.Since(start).Seconds()*1000/float64(n)*1000, "index-ms/1k-msgs")
		if _, err := d.w.ExecContext(ctx, `CREATE VIRTUAL TABLE tri USING fts5(body, content = '', tokenize = 'trigram case_sensitive 0')`); err != nil {
			b.Fatal(err)
		}
		rows, err := d.r.QueryContext(ctx, `SELECT seq, codec, raw FROM message_data`)
		if err != nil {
			b.Fatal(err)
		}
		var todo []indexedBody
		for rows.Next() {
			var x indexedBody
			var codec int
			var raw []byte
			if err := rows.Scan(&x.seq, &codec, &raw); err != nil {
				b.Fatal(err)
			}
			if x.raw, err = d.codec.unpack(raw, codec); err != nil {
				b.Fatal(err)
			}
			todo = append(todo, x)
		}
		rows.Close()
		bodyTexts(todo)
		var text int
		for _, x := range todo {
			text += len(x.text)
			if _, err := d.w.ExecContext(ctx, `INSERT INTO tri (rowid, body) VALUES (?, ?)`, x.seq, x.text); err != nil {
				b.Fatal(err)
			}
		}
		size := func(pattern string) float64 {
			var s int64
			if err := d.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE ?`, pattern).Scan(&s); err != nil {
				b.Fatal(fmt.Errorf("dbstat: %w", err))
			}
			return float64(s) / float64(n) * 1000 / (1 << 20)
		}
		b.ReportMetric(size("messages_body%"), "word-MiB/1k-msgs")
		b.ReportMetric(size("tri%"), "trigram-MiB/1k-msgs")
		b.ReportMetric(size("messages_search%"), "header-trigram-MiB/1k-msgs")
		b.ReportMetric(size("message_data"), "raw-MiB/1k-msgs")
		b.ReportMetric(float64(text)/float64(n)*1000/(1<<20), "text-MiB/1k-msgs")
		d.Close()
	}
}
