package ui

import (
	"encoding/json"
	"fmt"
	"io"

	"smista/triage"
)

// WriteEvalReport writes the classifier's score ("smista eval"): the
// report as one JSON object, or its text. It returns the write's error.
func WriteEvalReport(w io.Writer, rep triage.Report, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(rep)
	}
	_, err := fmt.Fprint(w, rep.Text())
	return err
}
