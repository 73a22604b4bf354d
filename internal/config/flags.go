package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Source tells where a flag's value came from.
type Source int

const (
	// FromDefault: neither the flag nor its environment variable was given.
	FromDefault Source = iota
	// FromEnv: the value came from the environment variable.
	FromEnv
	// FromFlag: the flag was given on the command line.
	FromFlag
)

// String names the source for messages.
func (s Source) String() string {
	switch s {
	case FromEnv:
		return "environment"
	case FromFlag:
		return "flag"
	default:
		return "default"
	}
}

// EnvError reports an environment variable whose value its flag refuses.
type EnvError struct {
	Env   string // environment variable name
	Flag  string // flag name without dashes
	Value string // the refused value
	Err   error  // the flag value's parse error
}

// Error implements error.
func (e *EnvError) Error() string {
	return fmt.Sprintf("invalid value %q in %s (for --%s): %v", e.Value, e.Env, e.Flag, e.Err)
}

// Unwrap returns the parse error.
func (e *EnvError) Unwrap() error { return e.Err }

// envValue is a flag.Value bound to an environment variable.
type envValue struct {
	flag.Value
	env     string
	fromEnv bool
}

// boolEnvValue is an envValue for a boolean flag, so that "--flag" alone
// means true.
type boolEnvValue struct{ *envValue }

func (boolEnvValue) IsBoolFlag() bool { return true }

func lookupEnvValue(f *flag.Flag) *envValue {
	switch v := f.Value.(type) {
	case *envValue:
		return v
	case boolEnvValue:
		return v.envValue
	}
	return nil
}

// Var defines flag --name on fs whose value may also come from the
// environment variable env (empty env: no variable). The flag's default is
// value's current value. Use Parse to apply the variable.
func Var(fs *flag.FlagSet, value flag.Value, name, env, usage string) {
	ev := &envValue{Value: value, env: env}
	if b, ok := value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		fs.Var(boolEnvValue{ev}, name, usage)
		return
	}
	fs.Var(ev, name, usage)
}

// String defines a string flag bound to env with default def.
func String(fs *flag.FlagSet, p *string, name, env, def, usage string) {
	*p = def
	Var(fs, (*stringValue)(p), name, env, usage)
}

// Choice defines a string flag bound to env that accepts only one of
// choices (an empty default stays allowed as "not given").
func Choice(fs *flag.FlagSet, p *string, name, env, def string, choices []string, usage string) {
	*p = def
	Var(fs, &choiceValue{p: p, choices: choices}, name, env, usage)
}

// Duration defines a time.Duration flag bound to env with default def.
func Duration(fs *flag.FlagSet, p *time.Duration, name, env string, def time.Duration, usage string) {
	*p = def
	Var(fs, (*durationValue)(p), name, env, usage)
}

// Bool defines a boolean flag bound to env with default def.
func Bool(fs *flag.FlagSet, p *bool, name, env string, def bool, usage string) {
	*p = def
	Var(fs, (*boolValue)(p), name, env, usage)
}

// Int defines an int flag bound to env with default def.
func Int(fs *flag.FlagSet, p *int, name, env string, def int, usage string) {
	*p = def
	Var(fs, (*intValue)(p), name, env, usage)
}

// Parse parses args into fs and then sets every bound flag that was not
// given on the command line from its environment variable, if that variable
// is non-empty. getenv is usually os.Getenv; nil means an empty environment.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return ApplyEnv(fs, getenv)
}

// ApplyEnv sets every bound flag of fs not given on the command line from its
// non-empty environment variable. Parse calls it.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		ev := lookupEnvValue(f)
		if ev == nil || ev.env == "" || given[f.Name] {
			return
		}
		val := getenv(ev.env)
		if val == "" {
			return
		}
		if err := ev.Set(val); err != nil {
			errs = append(errs, &EnvError{Env: ev.env, Flag: f.Name, Value: val, Err: err})
			return
		}
		ev.fromEnv = true
	})
	return errors.Join(errs...)
}

// SourceOf reports where the current value of flag name came from. Call it
// after Parse.
func SourceOf(fs *flag.FlagSet, name string) Source {
	src := FromDefault
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			src = FromFlag
		}
	})
	if src == FromFlag {
		return src
	}
	if f := fs.Lookup(name); f != nil {
		if ev := lookupEnvValue(f); ev != nil && ev.fromEnv {
			return FromEnv
		}
	}
	return src
}

// EnvName returns the environment variable bound to flag name, or "".
func EnvName(fs *flag.FlagSet, name string) string {
	if f := fs.Lookup(name); f != nil {
		if ev := lookupEnvValue(f); ev != nil {
			return ev.env
		}
	}
	return ""
}

// PrintFlags writes the usage of every flag of fs in GNU style (--name),
// with its environment variable and default, followed by -h/--help.
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		placeholder, usage := flag.UnquoteUsage(f)
		if _, ok := f.Value.(boolEnvValue); ok {
			placeholder = ""
		}
		line := "  --" + f.Name
		if placeholder != "" {
			line += " " + placeholder
		}
		fmt.Fprintln(w, line)
		fmt.Fprintf(w, "        %s\n", strings.ReplaceAll(usage, "\n", "\n        "))
		var notes []string
		if env := EnvName(fs, f.Name); env != "" {
			notes = append(notes, "env "+env)
		}
		if f.DefValue != "" {
			notes = append(notes, fmt.Sprintf("default %q", f.DefValue))
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, "        (%s)\n", strings.Join(notes, ", "))
		}
	})
	fmt.Fprintln(w, "  -h, --help")
	fmt.Fprintln(w, "        show this help and exit")
}

type stringValue string

func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }
func (s *stringValue) String() string {
	if s == nil {
		return ""
	}
	return string(*s)
}

type choiceValue struct {
	p       *string
	choices []string
}

func (c *choiceValue) Set(v string) error {
	for _, ch := range c.choices {
		if v == ch {
			*c.p = v
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(c.choices, ", "))
}

func (c *choiceValue) String() string {
	if c == nil || c.p == nil {
		return ""
	}
	return *c.p
}

type durationValue time.Duration

func (d *durationValue) Set(v string) error {
	parsed, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("not a duration (examples: 500ms, 10s, 2m)")
	}
	*d = durationValue(parsed)
	return nil
}

func (d *durationValue) String() string {
	if d == nil {
		return ""
	}
	return time.Duration(*d).String()
}

type boolValue bool

func (b *boolValue) Set(v string) error {
	parsed, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("not a boolean (true or false)")
	}
	*b = boolValue(parsed)
	return nil
}

func (b *boolValue) String() string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(bool(*b))
}

func (b *boolValue) IsBoolFlag() bool { return true }

type intValue int

func (i *intValue) Set(v string) error {
	parsed, err := strconv.Atoi(v)
	if err != nil {
		return errors.New("not an integer")
	}
	*i = intValue(parsed)
	return nil
}

func (i *intValue) String() string {
	if i == nil {
		return ""
	}
	return strconv.Itoa(int(*i))
}
