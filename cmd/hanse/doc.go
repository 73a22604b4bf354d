// Command hanse is the one Hanse binary. It owns the command-line surface
// (subcommands, flags bound to environment variables, --help everywhere),
// the wiring that picks implementations from configuration (event store,
// router, metrics, background workers), and the process lifecycle: signal
// handling and graceful shutdown.
//
//	hanse serve      run the HTTP server on the configured event store
//	hanse version    print the version
//	hanse help [cmd] show help
//
// It is the only package that picks implementations (events/sqlite or
// events/esdb); everything else sees the events.Store interface.
package main
