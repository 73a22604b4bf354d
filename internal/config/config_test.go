package config

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseServe(t *testing.T) {
	defaults := Serve{
		Listen:          DefaultListen,
		PublicURL:       DefaultPublicURL,
		ShutdownTimeout: DefaultShutdownTimeout,
		Store:           Store{Kind: StoreSQLite, DataDir: DefaultDataDir},
		Log:             Log{Level: "info", Format: "text"},
		InboxRate:       50, InboxBurst: 100, DeliveryConcurrency: 16, DeliveryPerHost: 4,
		Registrations: RegistrationsClosed, MediaMaxMB: 10, PostRate: 30, SignInRate: 10,
	}
	with := func(f func(*Serve)) Serve {
		c := defaults
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    Serve
		wantErr string // substring of the error; empty: no error
	}{
		{name: "defaults", want: defaults},
		{
			name: "flags",
			args: []string{"--listen", ":0", "--data-dir", "/srv/hanse", "--public-url", "https://Hanse.Example:8443/",
				"--log-level", "debug", "--log-format", "json", "--shutdown-timeout", "3s"},
			want: with(func(c *Serve) {
				c.Listen = ":0"
				c.Store.DataDir = "/srv/hanse"
				c.PublicURL = "https://hanse.example:8443"
				c.Log = Log{Level: "debug", Format: "json"}
				c.ShutdownTimeout = 3 * time.Second
			}),
		},
		{
			name: "env over default",
			env:  map[string]string{"HANSE_LISTEN": "0.0.0.0:9000", "HANSE_DATA_DIR": "d", "HANSE_LOG_LEVEL": "warn", "HANSE_SHUTDOWN_TIMEOUT": "1m"},
			want: with(func(c *Serve) {
				c.Listen = "0.0.0.0:9000"
				c.Store.DataDir = "d"
				c.Log.Level = "warn"
				c.ShutdownTimeout = time.Minute
			}),
		},
		{
			name: "flag over env",
			args: []string{"-listen=127.0.0.1:1", "--log-level", "error"},
			env:  map[string]string{"HANSE_LISTEN": "0.0.0.0:9000", "HANSE_LOG_LEVEL": "bogus"},
			want: with(func(c *Serve) { c.Listen = "127.0.0.1:1"; c.Log.Level = "error" }),
		},
		{
			name: "empty env means unset",
			env:  map[string]string{"HANSE_LISTEN": "", "HANSE_STORE": ""},
			want: defaults,
		},
		{
			name: "private networks and master key from the environment",
			env:  map[string]string{"HANSE_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8, ::1", "HANSE_MASTER_KEY": "a2V5"},
			want: with(func(c *Serve) { c.AllowPrivateNetworks = "127.0.0.0/8, ::1"; c.MasterKey = "a2V5" }),
		},
		{name: "bad private network", args: []string{"--allow-private-networks", "127.0.0.0/8,localhost"}, wantErr: "HANSE_ALLOW_PRIVATE_NETWORKS"},
		{name: "short admin token", env: map[string]string{"HANSE_ADMIN_TOKEN": "short"}, wantErr: "at least 16 bytes"},
		{
			name: "federation tuning",
			args: []string{"--inbox-rate", "-1", "--inbox-burst", "500", "--delivery-per-host", "32"},
			env:  map[string]string{"HANSE_DELIVERY_CONCURRENCY": "64"},
			want: with(func(c *Serve) { c.InboxRate, c.InboxBurst, c.DeliveryPerHost, c.DeliveryConcurrency = -1, 500, 32, 64 }),
		},
		{
			name: "people and posting",
			args: []string{"--registrations", "open", "--media-max-mb", "25", "--post-rate", "5"},
			env:  map[string]string{"HANSE_SIGN_IN_RATE": "3"},
			want: with(func(c *Serve) { c.Registrations, c.MediaMaxMB, c.PostRate, c.SignInRate = RegistrationsOpen, 25, 5, 3 }),
		},
		{name: "unknown registrations mode", env: map[string]string{"HANSE_REGISTRATIONS": "approval"}, wantErr: "must be one of open, closed"},
		{name: "no media", args: []string{"--media-max-mb", "0"}, wantErr: "HANSE_MEDIA_MAX_MB"},
		{name: "inbox rate zero", args: []string{"--inbox-rate", "0"}, wantErr: "HANSE_INBOX_RATE"},
		{name: "no delivery concurrency", env: map[string]string{"HANSE_DELIVERY_CONCURRENCY": "0"}, wantErr: "HANSE_DELIVERY_CONCURRENCY"},
		{
			name: "esdb url in env implies esdb",
			env:  map[string]string{"HANSE_ESDB_URL": "esdb://localhost:2113?tls=false"},
			want: with(func(c *Serve) { c.Store.Kind = StoreESDB; c.Store.ESDBURL = "esdb://localhost:2113?tls=false" }),
		},
		{
			name: "esdb url flag implies esdb",
			args: []string{"--esdb-url", "esdb+discover://cluster.local:2113"},
			want: with(func(c *Serve) { c.Store.Kind = StoreESDB; c.Store.ESDBURL = "esdb+discover://cluster.local:2113" }),
		},
		{
			name: "explicit sqlite beats esdb url",
			args: []string{"--store", "sqlite"},
			env:  map[string]string{"HANSE_ESDB_URL": "esdb://localhost:2113"},
			want: with(func(c *Serve) { c.Store.ESDBURL = "esdb://localhost:2113" }),
		},
		{
			name: "HANSE_STORE sqlite beats esdb url",
			env:  map[string]string{"HANSE_STORE": "sqlite", "HANSE_ESDB_URL": "esdb://localhost:2113"},
			want: with(func(c *Serve) { c.Store.ESDBURL = "esdb://localhost:2113" }),
		},
		{name: "esdb without url", args: []string{"--store", "esdb"}, wantErr: "--esdb-url (HANSE_ESDB_URL): required when --store is esdb"},
		{name: "esdb bad url", args: []string{"--store=esdb", "--esdb-url=http://x"}, wantErr: "must start with esdb://"},
		{name: "unknown store flag", args: []string{"--store", "postgres"}, wantErr: `invalid value "postgres" for flag -store: must be one of sqlite, esdb`},
		{name: "unknown store env", env: map[string]string{"HANSE_STORE": "postgres"}, wantErr: `invalid value "postgres" in HANSE_STORE (for --store): must be one of sqlite, esdb`},
		{name: "bad log level env", env: map[string]string{"HANSE_LOG_LEVEL": "loud"}, wantErr: "HANSE_LOG_LEVEL (for --log-level): must be one of debug, info, warn, error"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "must be one of text, json"},
		{name: "bad duration", args: []string{"--shutdown-timeout", "soon"}, wantErr: "not a duration"},
		{name: "zero timeout", args: []string{"--shutdown-timeout", "0s"}, wantErr: "--shutdown-timeout (HANSE_SHUTDOWN_TIMEOUT): must be positive"},
		{name: "listen without port", args: []string{"--listen", "localhost"}, wantErr: "--listen (HANSE_LISTEN): must be host:port"},
		{name: "listen bad port", args: []string{"--listen", "localhost:http"}, wantErr: "port must be a number"},
		{name: "listen port too big", env: map[string]string{"HANSE_LISTEN": ":70000"}, wantErr: "port must be a number"},
		{name: "empty data dir", args: []string{"--data-dir", " "}, wantErr: "--data-dir (HANSE_DATA_DIR): must not be empty"},
		{name: "unknown flag", args: []string{"--lisen", ":1"}, wantErr: "flag provided but not defined: -lisen"},
		{name: "positional argument", args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
		{name: "help", args: []string{"--help"}, wantErr: flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseServe(tt.args, envMap(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Fatalf("config\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNormalizePublicURL(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "http://localhost:8080", want: "http://localhost:8080"},
		{in: "https://hanse.example", want: "https://hanse.example"},
		{in: "https://hanse.example/", want: "https://hanse.example"},
		{in: "HTTPS://Hanse.EXAMPLE:443/city/", want: "https://hanse.example:443/city"},
		{in: "http://[::1]:8080", want: "http://[::1]:8080"},
		{in: "hanse.example", wantErr: "absolute http or https URL"},
		{in: "/relative", wantErr: "absolute http or https URL"},
		{in: "ftp://hanse.example", wantErr: "absolute http or https URL"},
		{in: "https://", wantErr: "must name a host"},
		{in: "https://:8080", wantErr: "must name a host"},
		{in: "https://user:pw@hanse.example", wantErr: "user info"},
		{in: "https://hanse.example/?a=1", wantErr: "must not have a query"},
		{in: "https://hanse.example/?", wantErr: "must not have a query"},
		{in: "https://hanse.example/#top", wantErr: "must not have a fragment"},
		{in: "https://hanse.example:0", wantErr: "port must be"},
		{in: "https://hanse.example:99999", wantErr: "port must be"},
		{in: "http://bad host", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizePublicURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NormalizePublicURL(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				if !IsConfigError(err) {
					t.Fatalf("error %v is not a config error", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizePublicURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestBindingHelpers(t *testing.T) {
	var (
		s    string
		b    bool
		n    int
		d    time.Duration
		c    string
		none string
	)
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(&bytes.Buffer{})
		String(fs, &s, "name", "X_NAME", "def", "a `name`")
		Bool(fs, &b, "verbose", "X_VERBOSE", false, "talk more")
		Int(fs, &n, "count", "X_COUNT", 3, "how many")
		Duration(fs, &d, "wait", "X_WAIT", time.Second, "how long")
		Choice(fs, &c, "color", "X_COLOR", "red", []string{"red", "blue"}, "a color")
		String(fs, &none, "plain", "", "", "no env")
		return fs
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(fs *flag.FlagSet) string // returns a complaint or ""
		wantErr string
	}{
		{
			name: "defaults",
			check: func(fs *flag.FlagSet) string {
				if s != "def" || b || n != 3 || d != time.Second || c != "red" || SourceOf(fs, "name") != FromDefault {
					return "defaults not applied"
				}
				return ""
			},
		},
		{
			name: "env sets all kinds",
			env:  map[string]string{"X_NAME": "env", "X_VERBOSE": "true", "X_COUNT": "7", "X_WAIT": "2m", "X_COLOR": "blue"},
			check: func(fs *flag.FlagSet) string {
				if s != "env" || !b || n != 7 || d != 2*time.Minute || c != "blue" {
					return "env not applied"
				}
				if SourceOf(fs, "name") != FromEnv || SourceOf(fs, "count") != FromEnv {
					return "source should be environment"
				}
				return ""
			},
		},
		{
			name: "bare bool flag and flag source",
			args: []string{"--verbose", "--name", "flag"},
			env:  map[string]string{"X_VERBOSE": "false", "X_NAME": "env"},
			check: func(fs *flag.FlagSet) string {
				if !b || s != "flag" || SourceOf(fs, "verbose") != FromFlag || SourceOf(fs, "name") != FromFlag {
					return "flags should win"
				}
				return ""
			},
		},
		{name: "bad int env", env: map[string]string{"X_COUNT": "many"}, wantErr: `invalid value "many" in X_COUNT (for --count): not an integer`},
		{name: "bad bool env", env: map[string]string{"X_VERBOSE": "yes please"}, wantErr: "not a boolean"},
		{name: "two bad envs reported", env: map[string]string{"X_COUNT": "many", "X_WAIT": "long"}, wantErr: "X_WAIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFS()
			err := Parse(fs, tt.args, envMap(tt.env))
			if tt.wantErr != "" {
				var ee *EnvError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ee) {
					t.Fatalf("error = %v, want an *EnvError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(fs); msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

func TestPrintFlagsNamesEnvAndDefaults(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c Serve
	c.Register(fs)
	var buf bytes.Buffer
	PrintFlags(&buf, fs)
	out := buf.String()
	for _, want := range []string{
		"--listen address", "env HANSE_LISTEN", `default "127.0.0.1:8080"`,
		"--data-dir directory", "env HANSE_DATA_DIR", `default "./data"`,
		"--public-url URL", "env HANSE_PUBLIC_URL", `default "http://localhost:8080"`,
		"--store store", "env HANSE_STORE",
		"--esdb-url string", "env HANSE_ESDB_URL",
		"--log-level level", "env HANSE_LOG_LEVEL", `default "info"`,
		"--log-format format", "env HANSE_LOG_FORMAT", `default "text"`,
		"--shutdown-timeout duration", "env HANSE_SHUTDOWN_TIMEOUT", `default "15s"`,
		"-h, --help",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("usage lacks %q:\n%s", want, out)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if EnvName(fs, f.Name) == "" {
			t.Errorf("flag --%s has no environment variable", f.Name)
		}
	})
}

func TestSQLitePath(t *testing.T) {
	s := Store{DataDir: "data"}
	if got, want := s.SQLitePath(), filepath.Join("data", "events.db"); got != want {
		t.Fatalf("SQLitePath = %q, want %q", got, want)
	}
}
