package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hanse-network/hanse/internal/config"
	"github.com/hanse-network/hanse/internal/httpapi"
)

const serveDescription = `
Run the Hanse HTTP server. Events are stored in the embedded SQLite store
(<data-dir>/events.db, created if missing) unless --store esdb selects an
EventStoreDB/KurrentDB server.

The line "listening addr=…" is logged once the port is bound (port 0 picks a
free one). SIGINT or SIGTERM start a graceful shutdown: stop accepting
connections, finish in-flight requests (at most --shutdown-timeout), stop
background workers, close the event store last.`

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("serve", "[flags]", serveDescription)
	var cfg config.Serve
	cfg.Register(fs)
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := cfg.Complete(); err != nil {
		return &usageError{fs: fs, err: err}
	}
	log, err := env.newLogger(cfg.Log)
	if err != nil {
		return &usageError{fs: fs, err: err}
	}
	return serve(ctx, cfg, log)
}

// serve builds the services, binds the listen address and runs until ctx
// ends.
func serve(ctx context.Context, cfg config.Serve, log *slog.Logger) error {
	log.Info("starting", "version", versionString(), "store", cfg.Store.Kind,
		"data_dir", cfg.Store.DataDir, "public_url", cfg.PublicURL)
	svc, err := buildServices(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listen on %s: %w", cfg.Listen, err), svc.close(log))
	}
	return runServices(ctx, ln, svc, cfg.ShutdownTimeout, log)
}

// runServices serves HTTP on ln and runs svc's workers until ctx ends or a
// worker or the server fails. Then it shuts down in order: stop accepting
// and drain in-flight requests (bounded by timeout; workers keep running
// meanwhile, so a request waiting for a projection can finish), stop the
// workers, and close svc's resources, the event store last. It returns nil
// after a clean shutdown caused by ctx.
func runServices(ctx context.Context, ln net.Listener, svc *services, timeout time.Duration, log *slog.Logger) error {
	runCtx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	workCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()

	var wg sync.WaitGroup
	for _, w := range svc.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.run(workCtx)
			if workCtx.Err() == nil { // it ended on its own: a failure
				if err == nil {
					err = errors.New("stopped unexpectedly")
				}
				cancelRun(fmt.Errorf("worker %s: %w", w.name, err))
			}
		}()
	}

	srv := httpapi.NewServer(svc.handler, log)
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	var errs []error
	select {
	case err := <-serveDone:
		serveDone <- err // read again below
		errs = append(errs, fmt.Errorf("http server: %w", err))
	case <-runCtx.Done():
		if ctx.Err() == nil {
			errs = append(errs, context.Cause(runCtx))
		}
	}
	reason := "signal"
	if len(errs) > 0 {
		reason = errs[0].Error()
	}
	log.Info("shutting down", "reason", reason, "timeout", timeout)

	deadline, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(deadline); err != nil {
		errs = append(errs, fmt.Errorf("graceful shutdown: in-flight requests cut after %s: %w", timeout, err))
		_ = srv.Close()
	}
	<-serveDone

	stopWorkers()
	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()
	select {
	case <-workersDone:
	case <-deadline.Done():
		errs = append(errs, fmt.Errorf("graceful shutdown: workers still running after %s", timeout))
	}

	if err := svc.close(log); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	log.Info("stopped")
	return nil
}
