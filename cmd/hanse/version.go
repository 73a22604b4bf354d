package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release version, set at link time with
// -ldflags "-X main.version=v1.2.3". Empty means: take the module version
// from the build information.
var version string

func runVersion(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("version", "", "Print the version of this binary, the Go version it was built with and,\nwhen known, the source revision.")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.stdout, versionString())
	return err
}

// releaseVersion is the version alone: the link-time version, else the
// module version, else "devel". NodeInfo reports it.
func releaseVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "" {
		v = bi.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return v
}

// versionString renders "hanse <version> (<go version>[, <vcs revision>])".
func versionString() string {
	v := releaseVersion()
	var rev string
	var dirty bool
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	details := runtime.Version()
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		details += ", " + rev
	}
	return fmt.Sprintf("hanse %s (%s)", v, details)
}
