package main

import "context"

func runTriage(ctx context.Context, a *App, args []string) error { return errNotAvailable }
