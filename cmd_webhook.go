package main

import "context"

func runEndpoints(ctx context.Context, a *App, args []string) error { return errNotAvailable }

func runSend(ctx context.Context, a *App, args []string) error { return errNotAvailable }

func runLog(ctx context.Context, a *App, args []string) error { return errNotAvailable }

func runReplay(ctx context.Context, a *App, args []string) error { return errNotAvailable }

func runListen(ctx context.Context, a *App, args []string) error { return errNotAvailable }
