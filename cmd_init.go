package main
import ("context")
func runInit(ctx context.Context, m *Main, args []string) error { return nil }
