// Package config owns the command-line configuration of the hanse binary:
// the flag groups of each command (listen address, data directory, public
// URL, event store, logging, shutdown timeout), their validation, and the
// helpers that bind a flag to an environment variable.
//
// Precedence is always: a flag given on the command line wins over its
// environment variable, which wins over the built-in default. Usage output
// names the environment variable next to every flag.
package config
