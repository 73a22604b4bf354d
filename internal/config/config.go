package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Store kinds accepted by --store.
const (
	StoreSQLite = "sqlite"
	StoreESDB   = "esdb"
)

// Defaults of the serve command.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDataDir         = "./data"
	DefaultPublicURL       = "http://localhost:8080"
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "text"
	DefaultShutdownTimeout = 15 * time.Second
)

// EventsFile is the name of the embedded store's database inside the data
// directory.
const EventsFile = "events.db"

// Error is a configuration error: a flag (and its environment variable)
// whose value is unusable.
type Error struct {
	Flag    string // flag name without dashes
	Env     string // bound environment variable, if any
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Env != "" {
		return fmt.Sprintf("--%s (%s): %s", e.Flag, e.Env, e.Message)
	}
	return fmt.Sprintf("--%s: %s", e.Flag, e.Message)
}

// Log configures the process logger.
type Log struct {
	// Level is debug, info, warn or error.
	Level string
	// Format is text (logfmt-like) or json.
	Format string
}

// Register defines --log-level and --log-format on fs.
func (l *Log) Register(fs *flag.FlagSet) {
	Choice(fs, &l.Level, "log-level", "HANSE_LOG_LEVEL", DefaultLogLevel,
		[]string{"debug", "info", "warn", "error"}, "minimum `level` of log records: debug, info, warn or error")
	Choice(fs, &l.Format, "log-format", "HANSE_LOG_FORMAT", DefaultLogFormat,
		[]string{"text", "json"}, "log record `format`: text or json")
}

// Validate checks the log settings (also when set without flags).
func (l Log) Validate() error {
	if _, err := l.SlogLevel(); err != nil {
		return err
	}
	if l.Format != "text" && l.Format != "json" {
		return &Error{Flag: "log-format", Env: "HANSE_LOG_FORMAT", Message: fmt.Sprintf("must be text or json, got %q", l.Format)}
	}
	return nil
}

// SlogLevel converts Level to a slog.Level.
func (l Log) SlogLevel() (slog.Level, error) {
	switch l.Level {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, &Error{Flag: "log-level", Env: "HANSE_LOG_LEVEL", Message: fmt.Sprintf("must be debug, info, warn or error, got %q", l.Level)}
}

// Store selects and locates the event store.
type Store struct {
	// Kind is StoreSQLite or StoreESDB. Left empty on the command line and
	// in the environment, Complete picks esdb when ESDBURL is set and sqlite
	// otherwise.
	Kind string
	// DataDir holds the embedded store's file (and later other local state).
	DataDir string
	// ESDBURL is the EventStoreDB/KurrentDB connection string
	// (esdb://… or esdb+discover://…).
	ESDBURL string
}

// Register defines --data-dir, --store and --esdb-url on fs.
func (s *Store) Register(fs *flag.FlagSet) {
	String(fs, &s.DataDir, "data-dir", "HANSE_DATA_DIR", DefaultDataDir,
		"`directory` for local state; the embedded event store is "+EventsFile+" in it (created if missing)")
	Choice(fs, &s.Kind, "store", "HANSE_STORE", "", []string{StoreSQLite, StoreESDB},
		"event `store`: sqlite (embedded, in --data-dir) or esdb (EventStoreDB/KurrentDB at --esdb-url);\n"+
			"when neither --store nor HANSE_STORE is given: esdb if an --esdb-url is set, else sqlite")
	String(fs, &s.ESDBURL, "esdb-url", "HANSE_ESDB_URL", "",
		"EventStoreDB/KurrentDB connection `string`, esdb://host:2113?tls=false or esdb+discover://…;\n"+
			"required with --store esdb")
}

// Complete resolves the default store kind and validates the settings.
func (s *Store) Complete() error {
	if s.Kind == "" {
		s.Kind = StoreSQLite
		if s.ESDBURL != "" {
			s.Kind = StoreESDB
		}
	}
	if strings.TrimSpace(s.DataDir) == "" {
		return &Error{Flag: "data-dir", Env: "HANSE_DATA_DIR", Message: "must not be empty"}
	}
	switch s.Kind {
	case StoreSQLite:
	case StoreESDB:
		if s.ESDBURL == "" {
			return &Error{Flag: "esdb-url", Env: "HANSE_ESDB_URL", Message: "required when --store is esdb"}
		}
		if !strings.HasPrefix(s.ESDBURL, "esdb://") && !strings.HasPrefix(s.ESDBURL, "esdb+discover://") {
			return &Error{Flag: "esdb-url", Env: "HANSE_ESDB_URL", Message: "must start with esdb:// or esdb+discover://"}
		}
	default:
		return &Error{Flag: "store", Env: "HANSE_STORE", Message: fmt.Sprintf("must be sqlite or esdb, got %q", s.Kind)}
	}
	return nil
}

// SQLitePath is the path of the embedded store's database file.
func (s Store) SQLitePath() string { return filepath.Join(s.DataDir, EventsFile) }

// Serve is the configuration of "hanse serve".
type Serve struct {
	// Listen is the TCP address of the HTTP server (host:port; port 0 picks
	// a free port).
	Listen string
	// PublicURL is the absolute http(s) URL under which clients and other
	// servers reach this instance, without trailing slash, query or fragment.
	PublicURL string
	// ShutdownTimeout bounds the graceful shutdown (draining requests).
	ShutdownTimeout time.Duration
	// Store selects the event store.
	Store Store
	// Log configures logging.
	Log Log
	// AdminToken, when set, is the bearer token that unlocks /metrics and
	// the admin API (/api/admin/...); when empty those answer 403.
	AdminToken string
	// AllowPrivateNetworks lists CIDRs (comma-separated) that outbound
	// federation may contact although they are private, loopback or
	// link-local: for tests and local test federations only.
	AllowPrivateNetworks string
	// InboxRate is the sustained inbox requests per second allowed per
	// remote host (negative: no limit); InboxBurst the bucket size.
	InboxRate, InboxBurst int
	// DeliveryConcurrency bounds concurrent outbound POSTs in all;
	// DeliveryPerHost bounds them per receiving host.
	DeliveryConcurrency, DeliveryPerHost int
	// Registrations is "open" (anyone may sign up through
	// POST /api/v1/accounts) or "closed" (administrators create accounts).
	Registrations string
	// MediaMaxMB caps one uploaded media file, in MiB.
	MediaMaxMB int
	// PostRate is the sustained posts per minute allowed per account;
	// SignInRate the sign-in attempts per minute per client address.
	PostRate, SignInRate int
	// MasterKey is the base64 instance master key from HANSE_MASTER_KEY
	// (environment only, never a flag); empty means the key file in the
	// data directory.
	MasterKey string
}

// The registration modes.
const (
	RegistrationsOpen   = "open"
	RegistrationsClosed = "closed"
)

// MinAdminTokenBytes is the shortest admin token accepted.
const MinAdminTokenBytes = 16

// Register defines every serve flag on fs with its defaults.
func (c *Serve) Register(fs *flag.FlagSet) {
	String(fs, &c.Listen, "listen", "HANSE_LISTEN", DefaultListen,
		"TCP `address` (host:port) of the HTTP server; port 0 picks a free port")
	String(fs, &c.PublicURL, "public-url", "HANSE_PUBLIC_URL", DefaultPublicURL,
		"absolute http(s) `URL` under which this instance is reached from outside")
	c.Store.Register(fs)
	c.Log.Register(fs)
	Duration(fs, &c.ShutdownTimeout, "shutdown-timeout", "HANSE_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout,
		"how long a graceful shutdown waits for in-flight requests (`duration`, e.g. 15s)")
	String(fs, &c.AllowPrivateNetworks, "allow-private-networks", "HANSE_ALLOW_PRIVATE_NETWORKS", "",
		"comma-separated `CIDRs` that outbound federation may reach although private or loopback (test federations only), e.g. 127.0.0.0/8,::1/128")
	Int(fs, &c.InboxRate, "inbox-rate", "HANSE_INBOX_RATE", 50,
		"inbox requests per second allowed per remote host (`n`; negative: no limit)")
	Int(fs, &c.InboxBurst, "inbox-burst", "HANSE_INBOX_BURST", 100, "inbox requests a remote host may send at once (`n`)")
	Int(fs, &c.DeliveryConcurrency, "delivery-concurrency", "HANSE_DELIVERY_CONCURRENCY", 16,
		"outbound deliveries in flight at once, in all (`n`)")
	Int(fs, &c.DeliveryPerHost, "delivery-per-host", "HANSE_DELIVERY_PER_HOST", 4,
		"outbound deliveries in flight at once to one host (`n`)")
	Choice(fs, &c.Registrations, "registrations", "HANSE_REGISTRATIONS", RegistrationsClosed,
		[]string{RegistrationsOpen, RegistrationsClosed},
		"who may create accounts: open (anyone, through the API) or closed (administrators only)")
	Int(fs, &c.MediaMaxMB, "media-max-mb", "HANSE_MEDIA_MAX_MB", 10, "largest media upload in MiB (`n`)")
	Int(fs, &c.PostRate, "post-rate", "HANSE_POST_RATE", 30, "posts per minute allowed per account (`n`)")
	Int(fs, &c.SignInRate, "sign-in-rate", "HANSE_SIGN_IN_RATE", 10,
		"sign-in attempts per minute allowed per client address and per login name (`n`)")
	String(fs, &c.AdminToken, "admin-token", "HANSE_ADMIN_TOKEN", "",
		"bearer `token` (at least 16 bytes) for /metrics and /api/admin; unset disables them (prefer the environment variable)")
}

// Complete resolves derived defaults, normalises the public URL and
// validates everything. It returns the first problem as an *Error.
func (c *Serve) Complete() error {
	if err := validateListen(c.Listen); err != nil {
		return err
	}
	u, err := NormalizePublicURL(c.PublicURL)
	if err != nil {
		return err
	}
	c.PublicURL = u
	if c.ShutdownTimeout <= 0 {
		return &Error{Flag: "shutdown-timeout", Env: "HANSE_SHUTDOWN_TIMEOUT", Message: "must be positive"}
	}
	for _, n := range []struct {
		flag, env string
		v         int
	}{
		{"inbox-burst", "HANSE_INBOX_BURST", c.InboxBurst},
		{"delivery-concurrency", "HANSE_DELIVERY_CONCURRENCY", c.DeliveryConcurrency},
		{"delivery-per-host", "HANSE_DELIVERY_PER_HOST", c.DeliveryPerHost},
		{"media-max-mb", "HANSE_MEDIA_MAX_MB", c.MediaMaxMB},
		{"post-rate", "HANSE_POST_RATE", c.PostRate},
		{"sign-in-rate", "HANSE_SIGN_IN_RATE", c.SignInRate},
	} {
		if n.v < 1 {
			return &Error{Flag: n.flag, Env: n.env, Message: "must be at least 1"}
		}
	}
	if c.InboxRate == 0 {
		return &Error{Flag: "inbox-rate", Env: "HANSE_INBOX_RATE", Message: "must not be 0 (negative means no limit)"}
	}
	if err := validateCIDRs(c.AllowPrivateNetworks); err != nil {
		return &Error{Flag: "allow-private-networks", Env: "HANSE_ALLOW_PRIVATE_NETWORKS", Message: err.Error()}
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinAdminTokenBytes {
		return &Error{Flag: "admin-token", Env: "HANSE_ADMIN_TOKEN",
			Message: fmt.Sprintf("must have at least %d bytes", MinAdminTokenBytes)}
	}
	if err := c.Store.Complete(); err != nil {
		return err
	}
	return c.Log.Validate()
}

// ParseServe parses serve's arguments and environment into a completed,
// validated configuration. The serve command and tests share it.
func ParseServe(args []string, getenv func(string) string) (Serve, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c Serve
	c.Register(fs)
	if err := Parse(fs, args, getenv); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.MasterKey = getenv("HANSE_MASTER_KEY")
	return c, c.Complete()
}

func validateListen(addr string) error {
	bad := func(msg string) error {
		return &Error{Flag: "listen", Env: "HANSE_LISTEN", Message: msg}
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return bad(fmt.Sprintf("must be host:port (for example 127.0.0.1:8080 or :8080), got %q", addr))
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return bad(fmt.Sprintf("port must be a number from 0 to 65535, got %q", port))
	}
	return nil
}

// NormalizePublicURL checks that raw is an absolute http or https URL with a
// host and without user info, query or fragment, and returns it with the
// scheme and host in lower case and without trailing slash. An explicit port
// is kept, even the scheme's default.
func NormalizePublicURL(raw string) (string, error) {
	bad := func(msg string) error {
		return &Error{Flag: "public-url", Env: "HANSE_PUBLIC_URL", Message: msg}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", bad(fmt.Sprintf("not a URL: %q", raw))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https": // url.Parse lower-cases the scheme
		return "", bad(fmt.Sprintf("must be an absolute http or https URL, got %q", raw))
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", bad(fmt.Sprintf("must name a host, got %q", raw))
	case u.User != nil:
		return "", bad("must not contain user info")
	case u.RawQuery != "" || u.ForceQuery:
		return "", bad("must not have a query")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", bad("must not have a fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", bad(fmt.Sprintf("port must be a number from 1 to 65535, got %q", p))
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// IsConfigError reports whether err is a configuration problem (a refused
// flag value, environment variable or combination), as opposed to a failure
// while running.
func IsConfigError(err error) bool {
	var ce *Error
	var ee *EnvError
	return errors.As(err, &ce) || errors.As(err, &ee)
}

// validateCIDRs checks a comma- or space-separated list of CIDRs or bare
// addresses.
func validateCIDRs(list string) error {
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if _, err := netip.ParsePrefix(f); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(f); err != nil {
			return fmt.Errorf("%q is neither a CIDR nor an IP address", f)
		}
	}
	return nil
}
