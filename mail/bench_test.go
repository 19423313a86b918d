package mail_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"smista/db"
	"smista/mail"
)

// benchMessages returns the raw messages benchmarks run on: the whole
// SpamAssassin corpus when SMISTA_CORPUS is set, else the testdata samples.
func benchMessages(b *testing.B) [][]byte {
	b.Helper()
	var files []string
	if dir := os.Getenv("SMISTA_CORPUS"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, corpusGroups[0])); err == nil {
			files = corpusFiles(b, dir)
		}
	}
	if files == nil {
		b.Log("SMISTA_CORPUS not set: benchmarking the testdata samples only")
		m, err := filepath.Glob("testdata/*.eml")
		if err != nil {
			b.Fatal(err)
		}
		files = m
	}
	raws := make([][]byte, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
	}
	return raws
}

// BenchmarkParse parses real messages on one goroutine and reports
// messages per second.
func BenchmarkParse(b *testing.B) {
	raws := benchMessages(b)
	var size int64
	for _, r := range raws {
		size += int64(len(r))
	}
	b.SetBytes(size / int64(len(raws)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := mail.Parse(raws[i%len(raws)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkParseHeader parses only what a listing needs (ids, thread,
// addresses, subject, date) of real messages on one goroutine: the parse
// of a sync or an import, which keeps the raw mail for the body.
func BenchmarkParseHeader(b *testing.B) {
	raws := benchMessages(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := mail.ParseHeader(raws[i%len(raws)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkImport runs the whole import of the corpus directories (read,
// parse on every core, store in batches into a WAL file database) and
// reports messages per second.
func BenchmarkImport(b *testing.B) {
	var paths []string
	if dir := os.Getenv("SMISTA_CORPUS"); dir != "" {
		for _, g := range corpusGroups {
			paths = append(paths, filepath.Join(dir, g))
		}
	} else {
		b.Log("SMISTA_CORPUS not set: benchmarking the testdata samples only")
		paths = []string{"testdata/import/sample.mbox", "testdata/import/Maildir"}
	}
	ctx := context.Background()
	total := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d, err := db.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		stats, err := mail.Import(ctx, d, paths, mail.ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
		total += stats.New
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "msgs/s")
}
