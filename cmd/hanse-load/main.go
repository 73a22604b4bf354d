package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the run failed or not everything was accepted/delivered
	exitUsage = 2
)

const usage = `Usage: hanse-load <command> [flags]

Load tool for Hanse: measures a running "hanse serve" on loopback and
states each rate as a ratio to a limit of this machine measured in the
same run.

Commands:
  inbox     signed Create{Note} POSTs into a Group's inbox; accepted/s
            against RSA-2048 verifications/s × GOMAXPROCS
  fanout    one note of a Group to N followers on N distinct inboxes;
            signed deliveries/s against RSA-2048 signatures/s × GOMAXPROCS
  timeline  home-timeline reads by people of a community; requests/s
            against the same load on GET /livez (the server's floor)

Run "hanse-load <command> --help" for its flags. The server must listen on
loopback and run with HANSE_ADMIN_TOKEN set; inbox and fanout also need
HANSE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8, timeline a raised
HANSE_POST_RATE (see "hanse-load timeline --help").
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "inbox":
		err = runInbox(ctx, args[1:], stdout, stderr)
	case "fanout":
		err = runFanout(ctx, args[1:], stdout, stderr)
	case "timeline":
		err = runTimeline(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "hanse-load: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hanse-load %s: %v\nRun \"hanse-load %s --help\" for usage.\n", args[0], ue.err, args[0])
		return exitUsage
	default:
		fmt.Fprintf(stderr, "hanse-load %s: %v\n", args[0], err)
		return exitFail
	}
}

// usageError is a command line the command cannot run.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// common holds the flags every command shares.
type common struct {
	target  string
	token   string
	timeout time.Duration
	rsaTime time.Duration
	rsa     bool // --rsa-time is a flag of the command
	base    *url.URL
}

// Bounds of the shared flags.
const (
	maxTimeout = 30 * time.Minute
	maxRSATime = 30 * time.Second
)

// register defines the shared flags, --rsa-time included.
func (c *common) register(fs *flag.FlagSet, timeout time.Duration) {
	c.registerTarget(fs, timeout)
	c.rsa = true
	fs.DurationVar(&c.rsaTime, "rsa-time", time.Second, "how long to time the single-core RSA-2048 loop (at most 30s)")
}

// registerTarget defines the flags naming the server and bounding the run.
func (c *common) registerTarget(fs *flag.FlagSet, timeout time.Duration) {
	fs.StringVar(&c.target, "target", "http://127.0.0.1:8080", "base `URL` of the running Hanse server (loopback only)")
	fs.StringVar(&c.token, "admin-token", os.Getenv("HANSE_ADMIN_TOKEN"), "the server's admin bearer `token` (default $HANSE_ADMIN_TOKEN)")
	fs.DurationVar(&c.timeout, "timeout", timeout, "bound on the whole run, setup included (at most 30m)")
}

// check validates the shared flags.
func (c *common) check() error {
	u, err := parseTarget(c.target)
	if err != nil {
		return &usageError{err}
	}
	c.base = u
	switch {
	case c.token == "":
		return &usageError{errors.New("no admin token: pass --admin-token or set HANSE_ADMIN_TOKEN")}
	case c.timeout <= 0 || c.timeout > maxTimeout:
		return &usageError{fmt.Errorf("--timeout must be in (0, %s]", maxTimeout)}
	case c.rsa && (c.rsaTime <= 0 || c.rsaTime > maxRSATime):
		return &usageError{fmt.Errorf("--rsa-time must be in (0, %s]", maxRSATime)}
	}
	return nil
}

// newFlagSet returns a flag set whose usage starts with synopsis and
// description; help goes to stdout, errors to stderr.
func newFlagSet(name, synopsis, description string, args []string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("hanse-load "+name, flag.ContinueOnError)
	out := stderr
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			out = stdout
		}
	}
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: hanse-load %s %s\n%s\nFlags:\n", name, synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; positional arguments are refused.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// intInRange checks a bounded integer flag.
func intInRange(name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return &usageError{fmt.Errorf("--%s must be between %d and %d, got %d", name, lo, hi, v)}
	}
	return nil
}

// runID is a short id that keeps this run's usernames and activity ids
// apart from earlier runs against the same server.
func runID() string {
	return strings.ToLower(fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff))
}
