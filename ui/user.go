package ui

import (
	"os"
	"os/user"
	"strconv"
	"strings"
)

// UserName names the person at this terminal in the actions they record
// ("human:<name>"): $USER, else $LOGNAME, else the operating system's
// name for the process's user, else "uid<n>" (never "unknown": two
// people on one machine stay apart).
func UserName(getenv func(string) string) string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid" + strconv.Itoa(os.Getuid())
}
