package main

import "context"

func runDemo(ctx context.Context, a *App, args []string) error { return errNotAvailable }
