package db

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"
)

// The encodings of message_data.raw.
const (
	codecNone = 0 // stored as received
	codecZstd = 1 // zstd, one frame per message
)

// rawCodec compresses and decompresses raw mail. Measured on the
// SpamAssassin corpus (docs/benchmarks.md): zstd's fastest level stores
// real mail in 0.43 of its size at about 200 MB/s per core and reads it
// back at about 600 MB/s; storing half the bytes halves what the single
// writer copies into the WAL and back, so compressing (on every core,
// before the write transaction) makes a sync faster, not slower.
type rawCodec struct {
	once sync.Once
	enc  *zstd.Encoder
	dec  *zstd.Decoder
	err  error
}

func (c *rawCodec) init() error {
	c.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		c.enc, c.err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(n), zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true))
		if c.err != nil {
			return
		}
		// A stored message is at most the size of the mail received; the
		// limit only stops a corrupt frame from claiming gigabytes.
		c.dec, c.err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(n), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(1<<30))
	})
	return c.err
}

// minGain is the share a compressed copy must save to be stored: below
// it, reading the raw bytes back as they are costs less.
const minGain = 8 // at least 1/8 smaller

// pack returns raw in its stored form and the codec it uses.
func (c *rawCodec) pack(raw []byte) ([]byte, int, error) {
	if len(raw) < 256 {
		return raw, codecNone, nil
	}
	if err := c.init(); err != nil {
		return nil, 0, fmt.Errorf("compress: %w", err)
	}
	z := c.enc.EncodeAll(raw, make([]byte, 0, len(raw)/2))
	if len(z) > len(raw)-len(raw)/minGain {
		return raw, codecNone, nil
	}
	return z, codecZstd, nil
}

// unpack returns the raw mail of a stored value.
func (c *rawCodec) unpack(b []byte, codec int) ([]byte, error) {
	switch codec {
	case codecNone:
		return b, nil
	case codecZstd:
		if err := c.init(); err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		out, err := c.dec.DecodeAll(b, nil)
		if err != nil {
			return nil, fmt.Errorf("decompress: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("decompress: unknown codec %d", codec)
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
