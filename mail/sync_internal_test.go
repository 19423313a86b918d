package mail

import "testing"

// TestUIDChunks: a FETCH names at most so many ranges, and the chunks
// cover the UIDs exactly, in order.
func TestUIDChunks(t *testing.T) {
	var uids []uint32
	for u := uint32(1); u <= 100; u++ {
		uids = append(uids, u) // one range
	}
	for u := uint32(200); u < 220; u += 2 {
		uids = append(uids, u) // ten ranges
	}
	chunks := uidChunks(uids, 4)
	var got []uint32
	for _, c := range chunks {
		if len(c) > 4 {
			t.Errorf("chunk %v has %d ranges, want at most 4", c, len(c))
		}
		nums, _ := c.Nums()
		for _, n := range nums {
			got = append(got, uint32(n))
		}
	}
	if len(chunks) != 3 || len(got) != len(uids) {
		t.Fatalf("%d chunks covering %d uids, want 3 covering %d", len(chunks), len(got), len(uids))
	}
	for i := range got {
		if got[i] != uids[i] {
			t.Fatalf("uid %d is %d, want %d", i, got[i], uids[i])
		}
	}
}
