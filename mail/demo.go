package mail

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

// demoFS holds the embedded demo mailbox: about forty realistic emails,
// English and Italian, for the fictional company Acme Cloud.
//
//go:embed demodata/*.eml
var demoFS embed.FS

// DemoCorpus returns the raw demo messages sorted by file name, so the order
// is stable across runs. It returns an error only if the embedded files
// cannot be read, which means the binary was built wrongly.
func DemoCorpus() ([][]byte, error) {
	names, err := fs.Glob(demoFS, "demodata/*.eml")
	if err != nil {
		return nil, fmt.Errorf("demo corpus: %w", err)
	}
	sort.Strings(names)
	out := make([][]byte, 0, len(names))
	for _, n := range names {
		b, err := demoFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("demo corpus: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}
