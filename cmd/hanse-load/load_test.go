package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/internal/proctest"
)

// waitFor bounds every awaited condition.
const waitFor = 20 * time.Second

const testToken = "hanse-load-test-token-0123456789"

// startHanse runs "hanse serve" as a separate process on a free loopback
// port, as an operator would for a load run, and returns its base URL.
func startHanse(t *testing.T) string {
	t.Helper()
	return proctest.Serve(t, proctest.Hanse(t, false), testToken).Base
}

// runTool runs one hanse-load command line in-process.
func runTool(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	code = run(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

// TestAgainstHanse runs every command briefly against a real "hanse
// serve" process (default settings, so a post rate of 30 a minute) and
// checks that they report everything accepted, delivered or answered,
// the limit and the ratio; that a single remote server sending more than
// the inbox's burst is reported as rate-limited; and that a timeline run
// needing more posts than the server's post rate allows stops with advice.
func TestAgainstHanse(t *testing.T) {
	base := startHanse(t)
	target := []string{"--target", base, "--admin-token", testToken}
	common := append([]string{"--rsa-time", "100ms"}, target...)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // regular expressions the output must match
		wantErr  []string // regular expressions stderr must match
	}{
		// First, while the server is quiet: the setup waits for idle read models.
		{"timeline", append([]string{"timeline", "--readers", "3", "--posts", "20", "--duration", "500ms", "--connections", "4"}, target...), exitOK,
			[]string{`(?m)^setup: 3 readers joined, 20 posts by the facilitator, everyone signed in through OAuth`,
				`(?m)^load: 4 connections, 500ms per window`,
				`(?m)^livez: GET /livez: [1-9][0-9]*/[0-9]+ answered 200 in [0-9.]+m?s: [0-9.]+ requests/s, latency p50 [0-9.]+[µm]?s, p90 .*, p99 [0-9.]+[µm]?s, max `,
				`(?m)^livez errors: 0; transport errors: 0$`,
				`(?m)^timeline: GET /api/hanse/v1/timelines/home: [1-9][0-9]*/[0-9]+ answered 200 in [0-9.]+m?s: [0-9.]+ requests/s, latency p50 [0-9.]+[µm]?s, p90 .*, p99 [0-9.]+[µm]?s, max `,
				`(?m)^timeline errors: 0; transport errors: 0$`,
				`(?m)^ratio: [0-9.]+ of the GET /livez throughput \(timeline [0-9.]+/s ÷ livez [0-9.]+/s\)$`},
			[]string{`every home timeline shows the community's 20 newest posts`}},
		// 40 posts by one account exceed the default burst of 30.
		{"timeline beyond the post rate", append([]string{"timeline", "--readers", "1", "--posts", "40", "--duration", "1s"}, target...), exitFail,
			nil, []string{`refused with 429: .*start hanse serve with --post-rate 100000 or more \(HANSE_POST_RATE\)`}},
		{"inbox", append([]string{"inbox", "--count", "50", "--connections", "8", "--servers", "3"}, common...), exitOK,
			[]string{`(?m)^accepted: 50/50 in `, `(?m)^rate: [0-9.]+ accepted activities/s$`, `refused: 0 rate-limited \(429\); transport errors: 0`,
				`(?m)^RSA-2048 verify: [0-9]+/s per core × [0-9]+ = [0-9]+/s$`, `(?m)^ratio: [0-9.]+ of the RSA-2048 verify limit`}, nil},
		{"fanout", append([]string{"fanout", "--followers", "20"}, common...), exitOK,
			[]string{`(?m)^delivered: 20/20 signed Creates, verified, in `, `(?m)^rate: [0-9.]+ deliveries/s$`,
				`refused: 0 failed verification; duplicates: 0`,
				`(?m)^RSA-2048 sign: [0-9]+/s per core × [0-9]+ = [0-9]+/s$`, `(?m)^ratio: [0-9.]+ of the RSA-2048 sign limit`}, nil},
		// One remote host sends more than the default burst of 100: the
		// excess is refused with 429, and the tool says so and fails.
		{"inbox rate-limited", append([]string{"inbox", "--count", "300", "--connections", "8", "--servers", "1"}, common...), exitFail,
			[]string{`refused: [1-9][0-9]* rate-limited \(429\)`, `note: the inbox's per-remote-host rate limit capped this run`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTool(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("output does not match %q:\n%s\nstderr:\n%s", re, out, errOut)
				}
			}
			for _, re := range tc.wantErr {
				if !regexp.MustCompile(re).MatchString(errOut) {
					t.Errorf("stderr does not match %q:\n%s", re, errOut)
				}
			}
			if tc.name == "timeline" {
				checkTimelineReport(t, out)
			}
		})
	}
}

// checkTimelineReport checks the figures of a timeline report against each
// other: the ratio is the quotient of the two rates, and a timeline answer
// (a page of 20 posts) weighs far more than the /livez one.
func checkTimelineReport(t *testing.T, out string) {
	t.Helper()
	number := func(re string) float64 {
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no match for %q in:\n%s", re, out)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	livez := number(`(?m)^livez: .*: ([0-9.]+) requests/s`)
	home := number(`(?m)^timeline: .*: ([0-9.]+) requests/s`)
	ratio := number(`(?m)^ratio: ([0-9.]+) `)
	if livez <= 0 || home <= 0 || math.Abs(ratio-home/livez) > 0.0011 {
		t.Errorf("ratio %.4f, want timeline %.1f/s ÷ livez %.1f/s = %.4f", ratio, home, livez, home/livez)
	}
	livezBytes := number(`(?m)^livez: .*, ([0-9]+) bytes per answer$`)
	homeBytes := number(`(?m)^timeline: .*, ([0-9]+) bytes per answer$`)
	if homeBytes < 20*200 || livezBytes > 100 {
		t.Errorf("%v bytes per timeline answer, %v per /livez answer; want a page of 20 posts and a tiny status", homeBytes, livezBytes)
	}
}

// TestRefusesNonLoopback checks that only loopback targets are accepted,
// before anything is sent.
func TestRefusesNonLoopback(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3:8080/", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://example.org", false},
		{"https://10.0.0.1:443", false},
		{"http://192.168.1.10:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://[::ffff:8.8.8.8]:80", false},
		{"http://127.0.0.1.example.org", false},
		{"ftp://127.0.0.1", false},
		{"http://127.0.0.1:8080/api", false},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			_, err := parseTarget(tc.target)
			if (err == nil) != tc.ok {
				t.Fatalf("parseTarget(%q) = %v, want ok %v", tc.target, err, tc.ok)
			}
		})
	}
	for _, cmd := range []string{"inbox", "fanout", "timeline"} {
		code, _, errOut := runTool(t, cmd, "--target", "http://example.org", "--admin-token", testToken)
		if code != exitUsage || !strings.Contains(errOut, "loopback") {
			t.Errorf("%s with a public target: exit %d, stderr %q; want %d and a loopback refusal", cmd, code, errOut, exitUsage)
		}
	}
}

// TestDialGuard checks that the client refuses to connect to a
// non-loopback address even when a URL got past the target check.
func TestDialGuard(t *testing.T) {
	c := newClient(1, 2*time.Second)
	_, err := c.Get("http://192.0.2.1:9/")
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("GET of a non-loopback address: %v, want errNotLoopback", err)
	}
}

// TestHelpAndUsage checks --help on every command and usage errors.
func TestHelpAndUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     string
		inStdout bool
	}{
		{[]string{"--help"}, exitOK, "Commands:", true},
		{[]string{"inbox", "--help"}, exitOK, "Usage: hanse-load inbox", true},
		{[]string{"inbox", "--help"}, exitOK, "-connections", true},
		{[]string{"fanout", "--help"}, exitOK, "Usage: hanse-load fanout", true},
		{[]string{"fanout", "--help"}, exitOK, "-followers", true},
		{[]string{"timeline", "--help"}, exitOK, "Usage: hanse-load timeline", true},
		{[]string{"timeline", "--help"}, exitOK, "-readers", true},
		{[]string{"timeline", "--help"}, exitOK, "HANSE_POST_RATE", true},
		{[]string{"timeline", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--readers", "0"}, exitUsage, "--readers must be between", false},
		{[]string{"timeline", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--posts", "200000"}, exitUsage, "--posts must be between", false},
		{[]string{"timeline", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--duration", "0s"}, exitUsage, "--duration must be", false},
		{[]string{"timeline", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--duration", "5m", "--timeout", "6m"}, exitUsage, "must exceed twice --duration", false},
		{[]string{"timeline", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--rsa-time", "1s"}, exitUsage, "flag provided but not defined: -rsa-time", false},
		{nil, exitUsage, "Commands:", false},
		{[]string{"bogus"}, exitUsage, `unknown command "bogus"`, false},
		{[]string{"inbox", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--count", "0"}, exitUsage, "--count must be between", false},
		{[]string{"inbox", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--connections", "5000"}, exitUsage, "--connections must be between", false},
		{[]string{"fanout", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--followers", "20000"}, exitUsage, "--followers must be between", false},
		{[]string{"fanout", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--timeout", "2h"}, exitUsage, "--timeout must be", false},
		{[]string{"inbox", "--target", "http://127.0.0.1:1", "extra"}, exitUsage, `unexpected argument "extra"`, false},
	}
	t.Setenv("HANSE_ADMIN_TOKEN", "")
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runTool(t, tc.args...)
			got := errOut
			if tc.inStdout {
				got = out
			}
			if code != tc.wantCode || !strings.Contains(got, tc.want) {
				t.Errorf("exit %d, want %d; output %q does not contain %q (stdout %q, stderr %q)", code, tc.wantCode, got, tc.want, out, errOut)
			}
		})
	}
}
