package main

import "context"

func runSync(ctx context.Context, a *App, args []string) error { return errNotAvailable }
