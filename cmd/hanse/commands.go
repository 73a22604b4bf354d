package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/hanse-network/hanse/internal/config"
)

// Exit codes of run.
const (
	exitOK    = 0
	exitError = 1 // the command failed while running
	exitUsage = 2 // bad command line or configuration
)

// command is one subcommand of the binary.
type command struct {
	name, summary string
	// run executes the command; flags are parsed by run itself from a FlagSet made with newFlagSet.
	run func(ctx context.Context, env *cliEnv, args []string) error
}

// commands is the subcommand table, in the order shown by "hanse help".
// "help" itself is handled by run.
var commands = []command{
	{name: "serve", summary: "run the HTTP server on the configured event store", run: runServe},
	{name: "admin", summary: "administer a running server: accounts, actors, keys, notes", run: runAdmin},
	{name: "federation", summary: "inspect outbound deliveries (state, attempts, errors)", run: runFederation},
	{name: "projections", summary: "status, rebuild and retry of the projections (read models)", run: runProjections},
	{name: "version", summary: "print the version and exit", run: runVersion},
}

// cliEnv is what a command may use of its surroundings.
type cliEnv struct {
	stdout, stderr io.Writer
	// stdin is read by commands that take a secret from standard input
	// (admin create-user --password-stdin); nil means os.Stdin.
	stdin  io.Reader
	getenv func(string) string
	// newLogger builds the process logger (writing to stderr) from the
	// log flags.
	newLogger func(config.Log) (*slog.Logger, error)
}

// usageError is a bad invocation: run prints it with the usage of fs (the
// command's flag set, or the root usage when fs is nil) and exits 2.
// flag.ErrHelp as err means help was asked for: usage to stdout, exit 0.
type usageError struct {
	fs  *flag.FlagSet
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// newFlagSet makes the flag set of subcommand name. synopsis follows
// "hanse <name>" in the usage line; description explains the command.
// Parse it with parseFlags.
func newFlagSet(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("hanse "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints errors and usage itself
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: hanse %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		fmt.Fprintf(w, "\nFlags (a flag wins over its environment variable):\n")
		config.PrintFlags(w, fs)
	}
	return fs
}

// parseFlags parses args into fs, applying bound environment variables, and
// wraps failures (including -h/--help) as *usageError.
func parseFlags(env *cliEnv, fs *flag.FlagSet, args []string) error {
	if err := config.Parse(fs, args, env.getenv); err != nil {
		return &usageError{fs: fs, err: err}
	}
	return nil
}

// noArgs refuses positional arguments left after the flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return &usageError{fs: fs, err: fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

// run executes the command line args (without the program name) and
// returns the process exit code: 0 success (and help), 1 failure, 2 usage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	env := &cliEnv{stdout: stdout, stderr: stderr, getenv: getenv, newLogger: stderrLogger(stderr)}
	return env.dispatch(ctx, args)
}

func (env *cliEnv) dispatch(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, "hanse: no command given")
		fmt.Fprintln(env.stderr)
		printRootUsage(env.stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch {
	case isHelpFlag(name) || name == "help" && len(rest) == 0:
		printRootUsage(env.stdout)
		return exitOK
	case name == "help":
		if rest[0] == "help" || isHelpFlag(rest[0]) {
			printRootUsage(env.stdout)
			return exitOK
		}
		if len(rest) > 1 {
			return env.rootUsageError(fmt.Errorf("help takes one command name, got %q", strings.Join(rest, " ")))
		}
		name, rest = rest[0], []string{"--help"}
		if _, ok := lookupCommand(name); !ok {
			return env.rootUsageError(fmt.Errorf("unknown command %q", name))
		}
	case strings.HasPrefix(name, "-"):
		return env.rootUsageError(fmt.Errorf("unknown flag %q (flags go after the command)", name))
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		return env.rootUsageError(fmt.Errorf("unknown command %q", name))
	}
	err := cmd.run(ctx, env, rest)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue) && errors.Is(ue.err, flag.ErrHelp):
		ue.fs.SetOutput(env.stdout)
		ue.fs.Usage()
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "hanse %s: %v\n\n", cmd.name, ue.err)
		if ue.fs == nil {
			printRootUsage(env.stderr)
		} else {
			ue.fs.SetOutput(env.stderr)
			ue.fs.Usage()
		}
		return exitUsage
	default:
		fmt.Fprintf(env.stderr, "hanse %s: %v\n", cmd.name, err)
		return exitError
	}
}

func (env *cliEnv) rootUsageError(err error) int {
	fmt.Fprintf(env.stderr, "hanse: %v\n\n", err)
	printRootUsage(env.stderr)
	return exitUsage
}

func printRootUsage(w io.Writer) {
	fmt.Fprint(w, `Hanse records everything a learning city does as events and federates over ActivityPub.

Usage: hanse <command> [flags]

Commands:
`)
	width := len("help")
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", "show help for a command: hanse help <command>")
	fmt.Fprint(w, `
Run "hanse <command> --help" for the flags of a command. Every flag can also
be set through the environment variable shown in its help; a flag wins.
`)
}

// stderrLogger is the default logger factory: text or JSON records on w.
func stderrLogger(w io.Writer) func(config.Log) (*slog.Logger, error) {
	return func(c config.Log) (*slog.Logger, error) {
		level, err := c.SlogLevel()
		if err != nil {
			return nil, err
		}
		opts := &slog.HandlerOptions{Level: level}
		if c.Format == "json" {
			return slog.New(slog.NewJSONHandler(w, opts)), nil
		}
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
}
