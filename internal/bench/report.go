package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Stat is one measure over the runs: the median with the smallest and
// largest run beside it, and every run for whoever wants more.
type Stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs"`
}

// statOf summarises runs; no runs give the zero Stat.
func statOf(runs []float64) Stat {
	if len(runs) == 0 {
		return Stat{}
	}
	return Stat{Median: median(runs), Min: slices.Min(runs), Max: slices.Max(runs), Runs: slices.Clone(runs)}
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile is the nearest-rank percentile p (0 < p ≤ 100) of xs.
func percentile(xs []float64, p float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Figure is one line of the table: a measure of a path for one case, the
// project's number and, where there is one, the reference measured in the
// same run on the same stack.
type Figure struct {
	Path    string `json:"path"`    // e.g. "ingest one customer"
	Case    string `json:"case"`    // e.g. "100k users"
	Measure string `json:"measure"` // e.g. "seconds"
	// Unit is how Measure is counted: s, ms, items/s, MiB, calls, bytes.
	Unit    string `json:"unit"`
	Project Stat   `json:"project"`
	// Reference is nil for paths without one.
	Reference     *Stat  `json:"reference,omitempty"`
	ReferenceName string `json:"referenceName,omitempty"`
	// Ratio is the project's median over the reference's.
	Ratio *float64 `json:"ratio,omitempty"`
}

func figure(path, cas, measure, unit string, project []float64) Figure {
	return Figure{Path: path, Case: cas, Measure: measure, Unit: unit, Project: statOf(project)}
}

// against sets the reference and the ratio.
func (f Figure) against(name string, reference []float64) Figure {
	ref := statOf(reference)
	f.Reference, f.ReferenceName = &ref, name
	if ref.Median != 0 && !math.IsNaN(ref.Median) {
		r := f.Project.Median / ref.Median
		f.Ratio = &r
	}
	return f
}

// Machine describes where the run happened.
type Machine struct {
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	MemoryMiB int64   `json:"memoryMiB"`
	Kernel    string  `json:"kernel"`
	Go        string  `json:"go"`
	Java      string  `json:"java"`
	LoadStart float64 `json:"loadAverageAtStart"` // 1-minute load average
	LoadEnd   float64 `json:"loadAverageAtEnd"`
}

// Report is one run of the harness.
type Report struct {
	Date    time.Time `json:"date"`
	Machine Machine   `json:"machine"`
	Runs    int       `json:"runs"`
	Large   bool      `json:"large"`
	// LargeRuns is the runs of each 1M-user figure (with Large).
	LargeRuns int      `json:"largeRuns,omitempty"`
	Smoke     bool     `json:"smoke,omitempty"` // tiny sizes: the numbers mean nothing
	Seconds   float64  `json:"seconds"`         // the whole run, start-up included
	Figures   []Figure `json:"figures"`
	Failures  []string `json:"failures,omitempty"` // paths that could not be measured, and why
	Notes     []string `json:"notes,omitempty"`
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteTable writes the report as a Markdown table (readable as it is on a
// terminal, and pasted as it is into BENCHMARKS.md).
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "License Insights benchmarks, %s: %d × %s, %.1f GiB, %s; %s; %s; load average %.1f at the start, %.1f at the end; %s per figure%s; %s in all.\n\n",
		r.Date.Format("2006-01-02 15:04 MST"), m.Cores, m.CPU, float64(m.MemoryMiB)/1024, m.Kernel, m.Go, m.Java,
		m.LoadStart, m.LoadEnd, plural(r.Runs, "run"), largeSizes(r),
		time.Duration(r.Seconds*float64(time.Second)).Round(time.Second))
	if r.Smoke {
		b.WriteString("SMOKE RUN: tiny sizes to check the harness; these numbers mean nothing.\n\n")
	}
	fmt.Fprintf(&b, "| path | case | measure | project: median (min–max) | reference: median (min–max) | ratio |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		ref, ratio := "—", "—"
		if f.Reference != nil {
			ref = f.ReferenceName + ": " + formatStat(*f.Reference, f.Unit)
		}
		if f.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *f.Ratio)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", f.Path, f.Case, f.Measure+" ("+f.Unit+")", formatStat(f.Project, f.Unit), ref, ratio)
	}
	for _, note := range r.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", note)
	}
	for _, fail := range r.Failures {
		fmt.Fprintf(&b, "\nnot measured: %s\n", fail)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatStat is "median (min–max)", or the median alone when every run
// gave the same; the three numbers share one precision.
func formatStat(s Stat, unit string) string {
	digits := decimals(s)
	if len(s.Runs) <= 1 || format(s.Min, unit, digits) == format(s.Max, unit, digits) {
		return format(s.Median, unit, digits)
	}
	return fmt.Sprintf("%s (%s–%s)", format(s.Median, unit, digits), format(s.Min, unit, digits), format(s.Max, unit, digits))
}

// decimals is the precision a Stat is shown with: none for whole numbers
// and from 100 up, one from 10, two below.
func decimals(s Stat) int {
	whole := true
	for _, v := range append([]float64{s.Median, s.Min, s.Max}, s.Runs...) {
		whole = whole && v == math.Trunc(v)
	}
	switch m := math.Abs(s.Median); {
	case whole || m >= 100:
		return 0
	case m >= 10:
		return 1
	default:
		return 2
	}
}

// format writes v with digits decimals; bytes in KiB or MiB.
func format(v float64, unit string, digits int) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case unit == "bytes" && v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case unit == "bytes":
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

// formatValue writes one value at the precision a Stat of it would get.
func formatValue(v float64, unit string) string {
	return format(v, unit, decimals(Stat{Median: v, Min: v, Max: v}))
}

// largeSizes says whether the run has the 1M-user sizes, and their runs.
func largeSizes(r *Report) string {
	if !r.Large {
		return ""
	}
	return fmt.Sprintf(" (%s per 1M-user figure)", plural(r.LargeRuns, "run"))
}

// plural is "1 run" or "3 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
