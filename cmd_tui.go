package main

import "context"

func runTUI(ctx context.Context, a *App, args []string) error { return errNotAvailable }
