package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Options tune a Reporter. The zero value gives plain lines every 2 s.
type Options struct {
	// Terminal selects the redrawn bar; see IsTerminal.
	Terminal bool
	// Width is the terminal width in columns (default 80).
	Width int
	// Interval is the period of plain lines (default 2 s). On a terminal the
	// bar is redrawn at most every 100 ms.
	Interval time.Duration
	// Unit names what is counted (default "events").
	Unit string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// IsTerminal reports whether w is a terminal, and its width (80 when
// unknown).
func IsTerminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width <= 0 {
		width = 80
	}
	return true, width
}

// ForWriter returns Options for w: the bar when w is a terminal, plain
// lines otherwise.
func ForWriter(w io.Writer) Options {
	tty, width := IsTerminal(w)
	return Options{Terminal: tty, Width: width}
}

type sample struct {
	at   time.Time
	done uint64
}

// Reporter renders the progress of one job. Call Update as often as
// convenient (it throttles itself) and Finish once at the end. It is safe
// for concurrent use.
type Reporter struct {
	w     io.Writer
	label string
	opts  Options

	mu        sync.Mutex
	start     time.Time
	lastDraw  time.Time
	samples   []sample
	drawn     bool
	finished  bool
	lastWidth int
}

// New returns a Reporter writing to w; label prefixes every line.
func New(w io.Writer, label string, opts Options) *Reporter {
	if opts.Width <= 0 {
		opts.Width = 80
	}
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.Unit == "" {
		opts.Unit = "events"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reporter{w: w, label: label, opts: opts, start: opts.Now()}
}

// Update records that done of total units are finished (total 0: unknown)
// and redraws when due.
func (r *Reporter) Update(done, total uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	now := r.opts.Now()
	r.record(now, done)
	period := r.opts.Interval
	if r.opts.Terminal {
		period = 100 * time.Millisecond
	}
	if r.drawn && now.Sub(r.lastDraw) < period {
		return
	}
	if !r.drawn && !r.opts.Terminal && now.Sub(r.start) < period {
		return // plain output: first line after one interval
	}
	r.draw(now, done, total, false)
}

// Finish draws the final state and ends the line.
func (r *Reporter) Finish(done, total uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	now := r.opts.Now()
	r.record(now, done)
	r.draw(now, done, total, true)
	r.finished = true
}

func (r *Reporter) record(now time.Time, done uint64) {
	r.samples = append(r.samples, sample{at: now, done: done})
	// Keep a 10 s window (and at least two samples) for the rate.
	cut := 0
	for cut < len(r.samples)-2 && now.Sub(r.samples[cut].at) > 10*time.Second {
		cut++
	}
	r.samples = r.samples[cut:]
}

// rate is units per second over the recent window, or over the whole job
// at the end.
func (r *Reporter) rate(now time.Time, done uint64, final bool) float64 {
	if final {
		if el := now.Sub(r.start).Seconds(); el > 0 {
			return float64(done) / el
		}
		return 0
	}
	first := r.samples[0]
	if len(r.samples) < 2 || !now.After(first.at) || done < first.done {
		if el := now.Sub(r.start).Seconds(); el > 0 {
			return float64(done) / el
		}
		return 0
	}
	return float64(done-first.done) / now.Sub(first.at).Seconds()
}

func (r *Reporter) draw(now time.Time, done, total uint64, final bool) {
	rate := r.rate(now, done, final)
	elapsed := now.Sub(r.start)
	var line string
	if r.opts.Terminal {
		line = r.barLine(done, total, rate, elapsed, final)
		pad := ""
		if n := len([]rune(line)); n < r.lastWidth {
			pad = strings.Repeat(" ", r.lastWidth-n)
		}
		r.lastWidth = len([]rune(line))
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(r.w, "\r%s%s%s", line, pad, end)
	} else {
		fmt.Fprintln(r.w, r.plainLine(done, total, rate, elapsed, final))
	}
	r.drawn, r.lastDraw = true, now
}

func (r *Reporter) stats(done, total uint64, rate float64, elapsed time.Duration, final bool) string {
	parts := []string{}
	if total > 0 {
		parts = append(parts, fmt.Sprintf("%s/%s %s (%.1f%%)", Count(done), Count(total), r.opts.Unit, percent(done, total)))
	} else {
		parts = append(parts, fmt.Sprintf("%s %s", Count(done), r.opts.Unit))
	}
	parts = append(parts, Rate(rate))
	switch {
	case final:
		parts = append(parts, "took "+Duration(elapsed))
	case total > 0 && done < total && rate > 0:
		parts = append(parts, "ETA "+Duration(time.Duration(float64(total-done)/rate*float64(time.Second))))
	case total > 0 && done >= total:
		parts = append(parts, "ETA 0s")
	default:
		parts = append(parts, "ETA ?")
	}
	return strings.Join(parts, ", ")
}

func (r *Reporter) plainLine(done, total uint64, rate float64, elapsed time.Duration, final bool) string {
	prefix := r.label + ": "
	if final {
		prefix = r.label + ": done: "
	}
	return prefix + r.stats(done, total, rate, elapsed, final)
}

func (r *Reporter) barLine(done, total uint64, rate float64, elapsed time.Duration, final bool) string {
	stats := r.stats(done, total, rate, elapsed, final)
	// label [=====>    ] stats
	room := r.opts.Width - 1 - len([]rune(r.label)) - len([]rune(stats)) - 4
	if room < 10 || total == 0 {
		line := r.label + " " + stats
		return truncate(line, r.opts.Width-1)
	}
	width := min(room, 40)
	filled := int(math.Round(float64(width) * min(percent(done, total), 100) / 100))
	bar := strings.Repeat("=", filled)
	if filled < width {
		if filled > 0 {
			bar = bar[:filled-1] + ">"
		}
		bar += strings.Repeat(" ", width-filled)
	}
	return fmt.Sprintf("%s [%s] %s", r.label, bar, stats)
}

func truncate(s string, n int) string {
	rs := []rune(s)
	if n <= 0 || len(rs) <= n {
		return s
	}
	return string(rs[:n])
}

func percent(done, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(done) / float64(total)
}

// Count renders a count with thousands separators: 1234567 → "1,234,567".
func Count(n uint64) string {
	s := fmt.Sprintf("%d", n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Rate renders a per-second rate compactly: "950/s", "12.3k/s", "1.20M/s".
func Rate(perSecond float64) string {
	switch {
	case perSecond >= 1e6:
		return fmt.Sprintf("%.2fM/s", perSecond/1e6)
	case perSecond >= 1e4:
		return fmt.Sprintf("%.1fk/s", perSecond/1e3)
	default:
		return fmt.Sprintf("%.0f/s", perSecond)
	}
}

// Duration renders a duration for humans: "850ms", "42s", "3m07s", "2h05m".
func Duration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}
