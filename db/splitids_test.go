package db

import (
	"errors"
	"testing"

	"smista/webhook"
)

// TestSplitIDs: the queue read's packed ids come apart into the four
// fields, empty ones included; a packed text that does not split in four
// (an id holding the separator) is an error, never ids shifted into the
// wrong fields.
func TestSplitIDs(t *testing.T) {
	var d webhook.Delivery
	if err := splitIDs("dlv_1\x1fep_2\x1f\x1fmsg_3", &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != "dlv_1" || d.EndpointID != "ep_2" || d.EventID != "" || d.WebhookID != "msg_3" {
		t.Errorf("split into %q %q %q %q", d.ID, d.EndpointID, d.EventID, d.WebhookID)
	}
	for _, bad := range []string{"dlv_1\x1fep_2\x1fevt_3", "dlv_1\x1fep_2\x1fevt_3\x1fmsg\x1f4", ""} {
		if err := splitIDs(bad, &d); !errors.Is(err, errPackedIDs) {
			t.Errorf("splitIDs(%q) = %v, want errPackedIDs", bad, err)
		}
	}
}
