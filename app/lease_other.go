//go:build !unix

package app

// processAlive cannot tell on this platform: a lease is taken over only
// once it expired.
func processAlive(int) bool { return true }
