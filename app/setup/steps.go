package setup

import "smista/mail"

// Step is one step of the setup, reported to Env.Progress: Recognised, Wrote,
// WaitingForBrowser, OpenURL, DeviceCode, SignedIn, LoggedIn or
// EndpointAdded.
type Step interface{ step() }

// Recognised is reported once the address's provider is known: its
// name, and How it was found (the domain, its MX, or --provider).
type Recognised struct{ Provider, How string }

// Wrote is reported once the configuration file is written at Path.
type Wrote struct{ Path string }

// WaitingForBrowser is reported when the browser sign-in starts.
type WaitingForBrowser struct{}

// OpenURL is reported when the user should open URL in a browser (the
// authorization page), before a browser is started where one runs.
type OpenURL struct{ URL string }

// DeviceCode is reported when the device sign-in has a code for the user
// to type on another device. It comes from the provider: untrusted.
type DeviceCode struct{ Code mail.DeviceCode }

// SignedIn is reported once the token of Username is stored; Where names
// the store (never the token).
type SignedIn struct{ Username, Where string }

// LoggedIn is reported once the IMAP server at Addr let Username in;
// Has is what it announced (untrusted).
type LoggedIn struct {
	Addr, Username string
	Has            []string
}

// EndpointAdded is reported once the endpoint ID is stored with its
// generated Secret, which the user gives to the receiver.
type EndpointAdded struct{ ID, Secret string }

func (Recognised) step()        {}
func (Wrote) step()             {}
func (WaitingForBrowser) step() {}
func (OpenURL) step()           {}
func (DeviceCode) step()        {}
func (SignedIn) step()          {}
func (LoggedIn) step()          {}
func (EndpointAdded) step()     {}
