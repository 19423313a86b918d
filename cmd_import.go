package main

import "context"

func runImport(ctx context.Context, a *App, args []string) error { return errNotAvailable }
