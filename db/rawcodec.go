package db

import (
	"context"
	"fmt"
	"runtime"

	"github.com/klauspost/compress/s2"
	"golang.org/x/sync/errgroup"

	"smista/mail"
)

// The encodings of message_data.raw.
const (
	codecNone = 0 // stored as received
	codecS2   = 1 // S2 (a faster Snappy), one block per message
)

// rawCodec compresses and decompresses raw mail with S2. Measured on the
// SpamAssassin corpus (docs/benchmarks.md): S2 stores real mail in 0.57 of
// its size at about 9 µs a message on one core and reads it back in 4 µs;
// zstd's fastest level stores it in 0.43 but costs 24 µs a message, and on
// two cores a sync is CPU-bound: the bytes S2 saves the single writer (the
// WAL and its checkpoint copy each page) pay for its CPU, zstd's do not.
type rawCodec struct{}

// minGain is the share a compressed copy must save to be stored: below
// it, reading the raw bytes back as they are costs less.
const minGain = 8 // at least 1/8 smaller

// pack returns raw in its stored form and the codec it uses.
func (rawCodec) pack(raw []byte) ([]byte, int, error) {
	if len(raw) < 256 {
		return raw, codecNone, nil
	}
	z := s2.Encode(nil, raw)
	if len(z) > len(raw)-len(raw)/minGain {
		return raw, codecNone, nil
	}
	return z, codecS2, nil
}

// unpack returns the raw mail of a stored value.
func (rawCodec) unpack(b []byte, codec int) ([]byte, error) {
	switch codec {
	case codecNone:
		return b, nil
	case codecS2:
		out, err := s2.Decode(nil, b)
		if err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("decompress: unknown codec %d", codec)
}

// PackRaw implements mail.RawPacker: raw in the form the store keeps it,
// made on the caller's goroutine (the Syncer's parsing ones).
func (d *DB) PackRaw(raw []byte) (*mail.Packed, error) {
	b, codec, err := d.codec.pack(raw)
	if err != nil {
		return nil, err
	}
	return &mail.Packed{Data: b, Codec: codec}, nil
}

// packed is one message's raw mail in its stored form.
type packed struct {
	raw   []byte
	codec int
}

// packAll compresses raws on every core, before the write transaction
// that stores them: the writer is one connection, and must not wait for
// the CPU work.
func (c *rawCodec) packAll(ctx context.Context, raws [][]byte) ([]packed, error) {
	out := make([]packed, len(raws))
	g, _ := errgroup.WithContext(ctx)
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		g.Go(func() error {
			for i := w; i < len(raws); i += workers {
				b, codec, err := c.pack(raws[i])
				if err != nil {
					return err
				}
				out[i] = packed{raw: b, codec: codec}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
