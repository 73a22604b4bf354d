package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, stdout, stderr := runCLI(t, nil, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
				}
				if !strings.HasPrefix(stdout, "Usage: hanse "+c.name) || !strings.Contains(stdout, "-h, --help") {
					t.Fatalf("usage:\n%s", stdout)
				}
				// Every flag names its environment variable in the lines
				// that follow it.
				blocks := strings.Split(stdout, "\n  --")
				for _, b := range blocks[1:] {
					name := strings.Fields(b)[0]
					if !strings.Contains(b, "(env HANSE_") {
						t.Errorf("flag --%s shows no environment variable:\n%s", name, b)
					}
				}
			})
		}
	}
}

func TestServeHelpListsEveryFlag(t *testing.T) {
	_, stdout, _ := runCLI(t, nil, "serve", "--help")
	want := map[string]string{
		"--listen": "HANSE_LISTEN", "--data-dir": "HANSE_DATA_DIR", "--public-url": "HANSE_PUBLIC_URL",
		"--store": "HANSE_STORE", "--esdb-url": "HANSE_ESDB_URL", "--log-level": "HANSE_LOG_LEVEL",
		"--log-format": "HANSE_LOG_FORMAT", "--shutdown-timeout": "HANSE_SHUTDOWN_TIMEOUT",
		"--admin-token": "HANSE_ADMIN_TOKEN", "--allow-private-networks": "HANSE_ALLOW_PRIVATE_NETWORKS",
		"--inbox-rate": "HANSE_INBOX_RATE", "--inbox-burst": "HANSE_INBOX_BURST",
		"--delivery-concurrency": "HANSE_DELIVERY_CONCURRENCY", "--delivery-per-host": "HANSE_DELIVERY_PER_HOST",
		"--registrations": "HANSE_REGISTRATIONS", "--media-max-mb": "HANSE_MEDIA_MAX_MB",
		"--post-rate": "HANSE_POST_RATE", "--sign-in-rate": "HANSE_SIGN_IN_RATE",
	}
	got := flagEntries(stdout)
	if len(got) != len(want) {
		t.Errorf("flags %v, want %d", got, len(want))
	}
	for flag, env := range want {
		if !strings.Contains(stdout, "  "+flag+" ") || !strings.Contains(stdout, "env "+env) {
			t.Errorf("serve usage lacks %s / %s", flag, env)
		}
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout []string // substrings
		wantStderr []string // substrings; when empty, stderr must be empty
	}{
		{name: "no command", args: nil, wantCode: 2, wantStderr: []string{"no command given", "Usage: hanse <command>"}},
		{name: "root --help", args: []string{"--help"}, wantStdout: []string{"Usage: hanse <command>", "serve", "version", "help"}},
		{name: "root -h", args: []string{"-h"}, wantStdout: []string{"Usage: hanse <command>"}},
		{name: "help", args: []string{"help"}, wantStdout: []string{"Usage: hanse <command>"}},
		{name: "help help", args: []string{"help", "help"}, wantStdout: []string{"Usage: hanse <command>"}},
		{name: "help --help", args: []string{"help", "--help"}, wantStdout: []string{"Usage: hanse <command>"}},
		{name: "unknown command", args: []string{"frob"}, wantCode: 2, wantStderr: []string{`unknown command "frob"`, "Usage: hanse <command>"}},
		{name: "help unknown command", args: []string{"help", "frob"}, wantCode: 2, wantStderr: []string{`unknown command "frob"`, "Usage: hanse <command>"}},
		{name: "help two commands", args: []string{"help", "serve", "version"}, wantCode: 2, wantStderr: []string{"help takes one command name"}},
		{name: "unknown root flag", args: []string{"--verbose"}, wantCode: 2, wantStderr: []string{`unknown flag "--verbose"`, "Usage: hanse <command>"}},
		{name: "bad serve flag", args: []string{"serve", "--bogus"}, wantCode: 2, wantStderr: []string{"hanse serve: flag provided but not defined: -bogus", "Usage: hanse serve", "--listen"}},
		{name: "serve positional", args: []string{"serve", "now"}, wantCode: 2, wantStderr: []string{`unexpected argument "now"`, "Usage: hanse serve"}},
		{name: "serve bad value", args: []string{"serve", "--public-url", "ftp://x"}, wantCode: 2, wantStderr: []string{"--public-url (HANSE_PUBLIC_URL): must be an absolute http or https URL"}},
		{name: "serve bad env", args: []string{"serve"}, env: map[string]string{"HANSE_LOG_LEVEL": "loud"}, wantCode: 2, wantStderr: []string{`invalid value "loud" in HANSE_LOG_LEVEL`}},
		{name: "serve esdb without url", args: []string{"serve", "--store", "esdb"}, wantCode: 2, wantStderr: []string{"--esdb-url (HANSE_ESDB_URL): required when --store is esdb"}},
		{name: "version", args: []string{"version"}, wantStdout: []string{"hanse ", "(" + runtime.Version()}},
		{name: "version extra", args: []string{"version", "now"}, wantCode: 2, wantStderr: []string{`unexpected argument "now"`, "Usage: hanse version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if len(tt.wantStderr) == 0 && stderr != "" {
				t.Errorf("unexpected stderr:\n%s", stderr)
			}
			if tt.wantCode == 2 && stdout != "" {
				t.Errorf("usage errors must not write to stdout:\n%s", stdout)
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	saved := version
	t.Cleanup(func() { version = saved })
	tests := []struct {
		set, wantPrefix string
	}{
		{set: "v1.2.3", wantPrefix: "hanse v1.2.3 (" + runtime.Version()},
		{set: "", wantPrefix: "hanse "},
	}
	for _, tt := range tests {
		version = tt.set
		got := versionString()
		if !strings.HasPrefix(got, tt.wantPrefix) || !strings.HasSuffix(got, ")") || strings.Contains(got, "()") {
			t.Errorf("version %q: versionString() = %q, want prefix %q", tt.set, got, tt.wantPrefix)
		}
	}
}
