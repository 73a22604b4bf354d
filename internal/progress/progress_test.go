package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock                   { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestPlainLinesArePeriodic(t *testing.T) {
	var out bytes.Buffer
	clock := newClock()
	r := New(&out, "rebuild activity", Options{Now: clock.now})
	// 100k events per second for 5 s, updated every 100 ms.
	for i := 1; i <= 50; i++ {
		clock.advance(100 * time.Millisecond)
		r.Update(uint64(i)*10_000, 1_000_000)
	}
	r.Finish(500_000, 1_000_000)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"rebuild activity: 200,000/1,000,000 events (20.0%), 100.0k/s, ETA 8s",
		"rebuild activity: 400,000/1,000,000 events (40.0%), 100.0k/s, ETA 6s",
		"rebuild activity: done: 500,000/1,000,000 events (50.0%), 100.0k/s, took 5s",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(out.String(), "\r") {
		t.Fatal("plain output contains carriage returns")
	}
}

func TestTerminalBarRedraws(t *testing.T) {
	var out bytes.Buffer
	clock := newClock()
	r := New(&out, "streams", Options{Terminal: true, Width: 100, Now: clock.now})
	clock.advance(time.Second)
	r.Update(250, 1000)
	clock.advance(10 * time.Millisecond) // throttled: no redraw
	r.Update(260, 1000)
	clock.advance(time.Second)
	r.Update(500, 1000)
	clock.advance(2 * time.Second)
	r.Finish(1000, 1000)
	s := out.String()
	frames := strings.Split(s, "\r")[1:]
	if len(frames) != 3 {
		t.Fatalf("%d frames, want 3: %q", len(frames), s)
	}
	if !strings.HasPrefix(frames[0], "streams [=========>                              ] 250/1,000 events (25.0%), 250/s, ETA 3s") {
		t.Fatalf("first frame %q", frames[0])
	}
	if !strings.Contains(frames[1], "500/1,000 events (50.0%)") || !strings.Contains(frames[1], "ETA") {
		t.Fatalf("second frame %q", frames[1])
	}
	if !strings.HasPrefix(frames[2], "streams [========================================] 1,000/1,000 events (100.0%), 249/s, took 4s") ||
		!strings.HasSuffix(s, "\n") {
		t.Fatalf("final frame %q", frames[2])
	}
	for _, f := range frames {
		if n := len([]rune(strings.TrimRight(f, "\n"))); n > 99 {
			t.Fatalf("frame wider than the terminal (%d): %q", n, f)
		}
	}
}

func TestNarrowTerminalAndUnknownTotal(t *testing.T) {
	var out bytes.Buffer
	clock := newClock()
	r := New(&out, "import", Options{Terminal: true, Width: 30, Now: clock.now})
	clock.advance(time.Second)
	r.Update(10, 0)
	if got := strings.TrimPrefix(out.String(), "\r"); len(got) > 29 || !strings.HasPrefix(got, "import 10 events") {
		t.Fatalf("narrow frame %q", got)
	}
}

func TestUpdateAfterFinishIsIgnored(t *testing.T) {
	var out bytes.Buffer
	clock := newClock()
	r := New(&out, "x", Options{Now: clock.now})
	r.Finish(1, 1)
	n := out.Len()
	clock.advance(time.Minute)
	r.Update(2, 2)
	r.Finish(2, 2)
	if out.Len() != n {
		t.Fatalf("output after Finish: %q", out.String())
	}
}

func TestFormatting(t *testing.T) {
	counts := map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"}
	for n, want := range counts {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	rates := map[float64]string{950: "950/s", 12_345: "12.3k/s", 1_200_000: "1.20M/s"}
	for r, want := range rates {
		if got := Rate(r); got != want {
			t.Errorf("Rate(%v) = %q, want %q", r, got, want)
		}
	}
	durations := map[time.Duration]string{
		-time.Second: "0s", 850 * time.Millisecond: "850ms", 42 * time.Second: "42s",
		187 * time.Second: "3m07s", 2*time.Hour + 5*time.Minute: "2h05m",
	}
	for d, want := range durations {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	if tty, _ := IsTerminal(&bytes.Buffer{}); tty {
		t.Error("a buffer is not a terminal")
	}
}
