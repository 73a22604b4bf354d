package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/config"
	"github.com/hanse-network/hanse/internal/datakeys"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/progress"
	"github.com/hanse-network/hanse/internal/secrets"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/accounts"
	"github.com/hanse-network/hanse/projections/activity"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/communities"
	"github.com/hanse-network/hanse/projections/follows"
	pmoderation "github.com/hanse-network/hanse/projections/moderation"
	"github.com/hanse-network/hanse/projections/notes"
	"github.com/hanse-network/hanse/projections/remoteactors"
	"github.com/hanse-network/hanse/projections/remoteobjects"
	"github.com/hanse-network/hanse/projections/streams"
	"github.com/hanse-network/hanse/projections/tokens"
)

// ReadModelFile is the read-model database inside the data directory. It
// holds only projection state and can be deleted: it is rebuilt from the
// event store.
const ReadModelFile = "projections.db"

// readModelPath is where the read-model database of a data directory lives.
func readModelPath(cfg config.Store) string { return filepath.Join(cfg.DataDir, ReadModelFile) }

// projectors are the read models every hanse process runs; serve and the
// projections command must agree on them.
//
// opener decrypts personal data (names, bios, posts) for the read models
// that show it; once a person's data key is destroyed they show nothing of
// the person, also after a rebuild.
func projectors(opener personal.Opener) []projections.Projector {
	return []projections.Projector{activity.New(), streams.New(), actors.NewWithOpener(opener), follows.New(),
		remoteactors.New(), remoteobjects.New(), notes.New(), pmoderation.New(), accounts.New(opener), tokens.New(),
		communities.New()}
}

// openPersonalData opens the master keyring and the per-person data keys
// of the data directory (closed with the returned store).
func openPersonalData(cfg config.Store, masterKey string) (*secrets.Keyring, *datakeys.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create data directory: %w", err)
	}
	keyring, err := secrets.OpenKeyring(cfg.DataDir, masterKey)
	if err != nil {
		return nil, nil, fmt.Errorf("master key: %w", err)
	}
	keys, err := datakeys.Open(filepath.Join(cfg.DataDir, datakeys.FileName), keyring)
	if err != nil {
		return nil, nil, fmt.Errorf("personal data keys: %w", err)
	}
	return keyring, keys, nil
}

// newProjectionRunner builds the projection runner of "hanse serve": the
// read-model database in the data directory, metrics on reg. Run it as a
// worker (runner.Run) and serve queries from runner.DB().Reader().
//
// extra are projectors that only serve runs (reactors whose dependencies
// exist only there).
func newProjectionRunner(store events.Store, cfg config.Store, log *slog.Logger, reg prometheus.Registerer, opener personal.Opener, extra ...projections.Projector) (*projections.Runner, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	r, err := projections.New(store, readModelPath(cfg), log, reg, projections.Options{}, append(projectors(opener), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("projections: %w", err)
	}
	return r, nil
}

const projectionsDescription = `
Inspect and maintain the projections (read models built from the event
store) in <data-dir>/` + ReadModelFile + `.

Subcommands:
  status           health of every projection: position, head, lag, rate,
                   state and last error (--json for machines)
  rebuild [NAME]   rebuild NAME (all projections when omitted) from position 0
                   beside the live build, switching over once caught up
  retry NAME       resume a projection that stopped on an event

When "hanse serve" runs on the same data directory, rebuild and retry are
handed to it through the read-model database and followed from here;
otherwise this command does the work itself (and holds the event store
meanwhile). Run "hanse projections <subcommand> --help" for details.`

// projectionsCmd holds the flags every projections subcommand shares.
type projectionsCmd struct {
	store config.Store
	log   config.Log
	fs    *flag.FlagSet
}

func newProjectionsCmd(name, synopsis, description string) *projectionsCmd {
	c := &projectionsCmd{fs: newFlagSet(name, synopsis, description)}
	c.store.Register(c.fs)
	c.log.Register(c.fs)
	return c
}

// parse parses args, accepting one leading positional argument before the
// flags too ("rebuild activity --data-dir x"), and returns the positionals.
func (c *projectionsCmd) parse(env *cliEnv, args []string) ([]string, error) {
	var lead []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		lead, args = args[:1], args[1:]
	}
	if err := parseFlags(env, c.fs, args); err != nil {
		return nil, err
	}
	if err := c.store.Complete(); err != nil {
		return nil, &usageError{fs: c.fs, err: err}
	}
	if err := c.log.Validate(); err != nil {
		return nil, &usageError{fs: c.fs, err: err}
	}
	return append(lead, c.fs.Args()...), nil
}

// logger logs to stderr; below warnings only when --log-level was given,
// so that info records do not break the progress output.
func (c *projectionsCmd) logger(env *cliEnv) (*slog.Logger, error) {
	l := c.log
	if config.SourceOf(c.fs, "log-level") == config.FromDefault {
		l.Level = "warn"
	}
	return env.newLogger(l)
}

func runProjections(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		c := newProjectionsCmd("projections", "<status|rebuild|retry> [flags]", projectionsDescription)
		if _, err := c.parse(env, args); err != nil {
			return err
		}
		return &usageError{fs: c.fs, err: errors.New("missing subcommand: status, rebuild or retry")}
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "status":
		return projectionsStatus(ctx, env, rest)
	case "rebuild":
		return projectionsRebuild(ctx, env, rest)
	case "retry":
		return projectionsRetry(ctx, env, rest)
	}
	c := newProjectionsCmd("projections", "<status|rebuild|retry> [flags]", projectionsDescription)
	return &usageError{fs: c.fs, err: fmt.Errorf("unknown subcommand %q (want status, rebuild or retry)", sub)}
}

func registeredNames() []string {
	var names []string
	for _, p := range projectors(personal.Plain{}) { // names only
		if !slices.Contains(names, p.Name()) {
			names = append(names, p.Name())
		}
	}
	slices.Sort(names)
	return names
}

// openReadModel opens the read-model database; missing reports that it
// does not exist yet (nothing was ever projected).
func openReadModel(ctx context.Context, cfg config.Store) (db *projections.DB, missing bool, err error) {
	path := readModelPath(cfg)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, true, nil
	}
	db, err = projections.OpenDB(ctx, path)
	if err != nil {
		return nil, false, err
	}
	return db, false, nil
}

// --- status

const statusDescription = `
Show the health of every projection: its builds (the live one, and a pending
one while a rebuild runs), state (catching-up, live, rebuilding, failed,
frozen, stopped), position, head of the event store, lag in events and
seconds, rate, and the event it failed on.

With "hanse serve" running, the figures are the ones it records about once a
second; otherwise the lag is measured against the event store now.`

type statusReport struct {
	Runner      *projections.Lease   `json:"runner"`
	Projections []projections.Status `json:"projections"`
	NotBuilt    []string             `json:"not_built"`
	Note        string               `json:"note,omitempty"`
}

func projectionsStatus(ctx context.Context, env *cliEnv, args []string) error {
	c := newProjectionsCmd("projections status", "[flags]", statusDescription)
	var asJSON bool
	config.Bool(c.fs, &asJSON, "json", "HANSE_PROJECTIONS_JSON", false, "print JSON instead of a table")
	pos, err := c.parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", pos[0])}
	}
	log, err := c.logger(env)
	if err != nil {
		return &usageError{fs: c.fs, err: err}
	}
	report := statusReport{Projections: []projections.Status{}, NotBuilt: []string{}}
	db, missing, err := openReadModel(ctx, c.store)
	if err != nil {
		return err
	}
	if missing {
		report.Note = "no read-model database at " + readModelPath(c.store) + ": projections have never run"
	} else {
		defer db.Close()
		lease, active, err := projections.ActiveLease(ctx, db.Reader(), 0)
		if err != nil {
			return err
		}
		if active {
			report.Runner = &lease
		}
		if report.Projections, err = projections.Statuses(ctx, db.Reader()); err != nil {
			return err
		}
		if !active {
			report.Note = measureOffline(ctx, c.store, log, report.Projections)
		}
	}
	for _, name := range registeredNames() {
		if !slices.ContainsFunc(report.Projections, func(s projections.Status) bool { return s.Name == name }) {
			report.NotBuilt = append(report.NotBuilt, name)
		}
	}
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return printStatus(env.stdout, report, time.Now())
}

// measureOffline refreshes head and lag from the event store when no
// runner records them; it returns a note for the reader.
func measureOffline(ctx context.Context, cfg config.Store, log *slog.Logger, sts []projections.Status) string {
	if len(sts) == 0 {
		return "no runner is active"
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return "no runner is active, and the event store could not be opened (" + err.Error() + "): head and lag as last recorded"
	}
	defer store.Close()
	head, err := store.Head(ctx)
	if err != nil {
		return "no runner is active; head and lag as last recorded (" + err.Error() + ")"
	}
	now := time.Now()
	for i := range sts {
		sts[i].Head = head
		sts[i].LagEvents, sts[i].LagSeconds = projections.MeasureLag(ctx, store, head, sts[i].Position, now)
		sts[i].Rate = 0
	}
	return "no runner is active: head and lag measured now; start \"hanse serve\" to apply new events"
}

func printStatus(w io.Writer, rep statusReport, now time.Time) error {
	if rep.Runner != nil {
		fmt.Fprintf(w, "runner: active, pid %d on %s, heartbeat %s ago\n",
			rep.Runner.PID, rep.Runner.Host, progress.Duration(now.Sub(rep.Runner.Heartbeat)))
	} else {
		fmt.Fprintln(w, "runner: none")
	}
	if rep.Note != "" {
		fmt.Fprintln(w, "note: "+rep.Note)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tBUILD\tROLE\tSTATE\tPOSITION\tHEAD\tLAG\tLAG TIME\tRATE\tUPDATED\tLAST ERROR")
	for _, s := range rep.Projections {
		build := fmt.Sprintf("v%d", s.Version)
		if s.Generation > 0 {
			build += fmt.Sprintf("r%d", s.Generation)
		}
		lastErr := "-"
		if e := s.LastError; e != nil {
			lastErr = fmt.Sprintf("at %d (%s, stream %s): %s", e.Position, e.Type, e.StreamID, e.Message)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s ago\t%s\n", s.Name, build, s.Role, s.State,
			progress.Count(uint64(s.Position)), progress.Count(uint64(s.Head)), progress.Count(s.LagEvents),
			progress.Duration(time.Duration(s.LagSeconds*float64(time.Second))), progress.Rate(s.Rate),
			progress.Duration(now.Sub(s.UpdatedAt).Truncate(100*time.Millisecond)), lastErr)
	}
	for _, name := range rep.NotBuilt {
		fmt.Fprintf(tw, "%s\t-\t-\tnot built\t-\t-\t-\t-\t-\t-\t-\n", name)
	}
	return tw.Flush()
}

// --- rebuild

const rebuildDescription = `
Rebuild NAME (every projection when NAME is omitted) from position 0. The new
build is made beside the live one, which keeps serving queries, and replaces
it once it has caught up with the event store (blue/green).

Progress (events done / total, rate, ETA) is a redrawn bar on a terminal and
a plain line every 2 seconds otherwise.`

func projectionsRebuild(ctx context.Context, env *cliEnv, args []string) error {
	c := newProjectionsCmd("projections rebuild", "[flags] [NAME]", rebuildDescription)
	pos, err := c.parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return &usageError{fs: c.fs, err: fmt.Errorf("rebuild takes at most one projection name, got %q", strings.Join(pos, " "))}
	}
	names := registeredNames()
	if len(pos) == 1 {
		if !slices.Contains(names, pos[0]) {
			return &usageError{fs: c.fs, err: fmt.Errorf("unknown projection %q (known: %s)", pos[0], strings.Join(names, ", "))}
		}
		names = pos
	}
	log, err := c.logger(env)
	if err != nil {
		return &usageError{fs: c.fs, err: err}
	}
	return withProjections(ctx, env, c.store, log,
		func(db *projections.DB, lease projections.Lease) error {
			fmt.Fprintf(env.stdout, "hanse serve (pid %d on %s) runs the projections: asking it to rebuild\n", lease.PID, lease.Host)
			for _, name := range names {
				if err := remoteRebuild(ctx, env, db, name); err != nil {
					return err
				}
			}
			return nil
		},
		func(r *projections.Runner, _ []projections.Status) error {
			for _, name := range names {
				if err := localRebuild(ctx, env, r, name); err != nil {
					return err
				}
			}
			return nil
		})
}

// withProjections runs remote when a server holds the read-model lease,
// and local with a runner of its own otherwise.
func withProjections(ctx context.Context, env *cliEnv, cfg config.Store, log *slog.Logger,
	remote func(*projections.DB, projections.Lease) error, local func(*projections.Runner, []projections.Status) error) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	db, err := projections.OpenDB(ctx, readModelPath(cfg))
	if err != nil {
		return err
	}
	lease, active, err := projections.ActiveLease(ctx, db.Reader(), 0)
	if err != nil {
		db.Close()
		return err
	}
	if active {
		defer db.Close()
		return remote(db, lease)
	}
	before, err := projections.Statuses(ctx, db.Reader())
	db.Close()
	if err != nil {
		return err
	}
	_, keys, err := openPersonalData(cfg, env.getenv(secrets.EnvMasterKey))
	if err != nil {
		return err
	}
	defer keys.Close()
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	r, err := newProjectionRunner(store, cfg, log, nil, keys)
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return errors.Join(err, r.Close())
	}
	err = local(r, before)
	return errors.Join(err, r.Close())
}

func statusFor(sts []projections.Status, name string, role projections.Role) (projections.Status, bool) {
	for _, s := range sts {
		if s.Name == name && s.Role == role {
			return s, true
		}
	}
	return projections.Status{}, false
}

func localRebuild(ctx context.Context, env *cliEnv, r *projections.Runner, name string) error {
	if err := r.Rebuild(ctx, name); err != nil {
		return err
	}
	rep := progress.New(env.stdout, "rebuild "+name, progress.ForWriter(env.stdout))
	settled := make(chan error, 1)
	go func() { settled <- r.WaitSettled(ctx, name) }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-settled:
			sts, serr := r.Status(context.WithoutCancel(ctx))
			live, _ := statusFor(sts, name, projections.RoleLive)
			if err != nil {
				rep.Finish(uint64(live.Position), uint64(live.Head))
				return fmt.Errorf("rebuild %s: %w", name, errors.Join(err, serr))
			}
			rep.Finish(uint64(live.Position), uint64(live.Head))
			fmt.Fprintf(env.stdout, "%s: rebuilt v%d generation %d, live at position %d\n", name, live.Version, live.Generation, live.Position)
			return nil
		case <-tick.C:
			sts, err := r.Status(ctx)
			if err != nil {
				continue
			}
			if p, ok := statusFor(sts, name, projections.RolePending); ok {
				rep.Update(uint64(p.Position), uint64(p.Head))
			}
		}
	}
}

func remoteRebuild(ctx context.Context, env *cliEnv, db *projections.DB, name string) error {
	id, err := db.SubmitRequest(ctx, projections.RequestRebuild, name)
	if err != nil {
		return err
	}
	rep := progress.New(env.stdout, "rebuild "+name, progress.ForWriter(env.stdout))
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped following the rebuild of %s (it goes on in the server; see \"hanse projections status\"): %w", name, ctx.Err())
		case <-tick.C:
		}
		req, err := projections.GetRequest(ctx, db.Reader(), id)
		if err != nil {
			return err
		}
		sts, err := projections.Statuses(ctx, db.Reader())
		if err != nil {
			return err
		}
		if req.Done {
			live, _ := statusFor(sts, name, projections.RoleLive)
			rep.Finish(uint64(live.Position), uint64(live.Head))
			if !req.OK {
				return fmt.Errorf("rebuild %s: %s", name, req.Result)
			}
			fmt.Fprintf(env.stdout, "%s: %s\n", name, req.Result)
			return nil
		}
		if p, ok := statusFor(sts, name, projections.RolePending); ok && !p.CreatedAt.Before(req.RequestedAt.Truncate(time.Millisecond)) {
			rep.Update(uint64(p.Position), uint64(p.Head))
		}
	}
}

// --- retry

const retryDescription = `
Resume projection NAME, which stopped on an event it could not apply (see
"hanse projections status"). It starts again at that event and stops there
again if the cause is still present.`

func projectionsRetry(ctx context.Context, env *cliEnv, args []string) error {
	c := newProjectionsCmd("projections retry", "[flags] NAME", retryDescription)
	var wait time.Duration
	config.Duration(c.fs, &wait, "wait", "HANSE_PROJECTIONS_WAIT", time.Minute,
		"how long to wait for the projection to get past the failing event (`duration`)")
	pos, err := c.parse(env, args)
	if err != nil {
		return err
	}
	names := registeredNames()
	switch {
	case len(pos) != 1:
		return &usageError{fs: c.fs, err: fmt.Errorf("retry takes exactly one projection name (known: %s)", strings.Join(names, ", "))}
	case !slices.Contains(names, pos[0]):
		return &usageError{fs: c.fs, err: fmt.Errorf("unknown projection %q (known: %s)", pos[0], strings.Join(names, ", "))}
	case wait <= 0:
		return &usageError{fs: c.fs, err: errors.New("--wait must be positive")}
	}
	name := pos[0]
	log, err := c.logger(env)
	if err != nil {
		return &usageError{fs: c.fs, err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return withProjections(ctx, env, c.store, log,
		func(db *projections.DB, lease projections.Lease) error {
			fmt.Fprintf(env.stdout, "hanse serve (pid %d on %s) runs the projections: asking it to retry %s\n", lease.PID, lease.Host, name)
			id, err := db.SubmitRequest(ctx, projections.RequestRetry, name)
			if err != nil {
				return err
			}
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return fmt.Errorf("no outcome within --wait %s (the request stays queued): %w", wait, ctx.Err())
				case <-tick.C:
				}
				req, err := projections.GetRequest(ctx, db.Reader(), id)
				if err != nil {
					return err
				}
				if req.Done {
					if !req.OK {
						return fmt.Errorf("retry %s: %s", name, req.Result)
					}
					fmt.Fprintf(env.stdout, "%s: %s\n", name, req.Result)
					return nil
				}
			}
		},
		func(r *projections.Runner, before []projections.Status) error {
			// Start resumes failed builds by itself; wait for the outcome.
			live, _ := statusFor(before, name, projections.RoleLive)
			if p, ok := statusFor(before, name, projections.RolePending); ok && p.State == projections.StateFailed {
				// A failed rebuild: it resumes and replaces the live build.
				if err := r.WaitSettled(ctx, name); err != nil {
					return fmt.Errorf("retry %s: %w", name, err)
				}
				fmt.Fprintf(env.stdout, "%s: resumed: the rebuild got past position %d and is live\n", name, p.LastError.Position)
				return nil
			}
			if live.State != projections.StateFailed || live.LastError == nil {
				fmt.Fprintf(env.stdout, "%s: nothing to retry: %s at position %d\n", name, live.State, live.Position)
				return nil
			}
			failedAt := live.LastError.Position
			if err := r.WaitFor(ctx, name, failedAt); err != nil {
				return fmt.Errorf("retry %s: %w", name, err)
			}
			live, _ = statusFor(mustStatus(ctx, r), name, projections.RoleLive)
			fmt.Fprintf(env.stdout, "%s: resumed: applied the event at position %d, now at position %d\n", name, failedAt, live.Position)
			return nil
		})
}

func mustStatus(ctx context.Context, r *projections.Runner) []projections.Status {
	sts, err := r.Status(ctx)
	if err != nil {
		return nil
	}
	return sts
}
