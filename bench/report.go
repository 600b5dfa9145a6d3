package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a person: the figures as a table, then
// what each row measured, every error by kind, and the notes.
func (r *Report) WriteTable(w io.Writer) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	target := r.Target
	if r.InProcess {
		target = "self (in-process server"
		if r.Engine != "" {
			target += ", " + r.Engine
		}
		target += ")"
	}
	var bounds []string
	if r.DurationSeconds > 0 {
		bounds = append(bounds, strconv.FormatFloat(r.DurationSeconds, 'g', -1, 64)+" s")
	}
	if r.Requests > 0 {
		bounds = append(bounds, group(uint64(r.Requests))+" requests")
	}
	p("usercenter bench %s: target %s, %d connections, each scenario %s; %d CPUs, GOMAXPROCS %d, %s\n",
		r.Version, target, r.Connections, strings.Join(bounds, " or "), r.NumCPU, r.GOMAXPROCS, r.GoVersion)
	if r.RateLimiter != "" {
		p("rate limiter: %s\n", r.RateLimiter)
	}
	s := r.Seeding
	p("seeding: %s users through %s, %d callers: %.2f s, %s users/s, %s errors", group(uint64(s.Users)), s.Path, s.Callers, s.Seconds, group(uint64(s.UsersPerSec+0.5)), group(s.Errors))
	if s.ContactSeconds > 0 {
		p("; then phone and email for the %s users, one PATCH each: %.2f s", group(uint64(s.ContactUsers)), s.ContactSeconds)
	}
	if r.InProcess {
		p("; peak RSS %s", mib(s.PeakRSSBytes))
	} else {
		p("; server RSS %s", mib(s.ServerRSSBytes))
		if s.ServerCPUSeconds > 0 && s.Users > 0 {
			p("; server CPU %.1f s, %.0f µs a user", s.ServerCPUSeconds, s.ServerCPUSeconds*1e6/float64(s.Users))
		}
	}
	p("\n")
	if s.AppUsers > 0 {
		p("the app has %s users; the lookup baseline's table as many rows\n", group(uint64(s.AppUsers)))
	}
	p("\n")

	// Numbers align right; names, padded to one width, then read left.
	width := len("scenario")
	for _, rs := range [][]Result{r.Baselines, r.Scenarios} {
		for _, x := range rs {
			width = max(width, len(x.Name))
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tok/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\t× lookup\t", width, "scenario")
	if r.InProcess {
		fmt.Fprint(tw, "peak RSS\t")
	} else {
		fmt.Fprint(tw, "server µs/op\tserver RSS\ttool peak RSS\t")
	}
	fmt.Fprint(tw, "Go heap\t\n")
	row := func(x *Result) {
		if x.SetupError != "" {
			fmt.Fprintf(tw, "%-*s\tsetup failed\t\t\t\t\t\t\t\n", width, x.Name)
			return
		}
		fmt.Fprintf(tw, "%-*s\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t%s\t%.2f\t", width, x.Name, group(uint64(x.ReqPerSec+0.5)),
			x.LatencyMs.P50, x.LatencyMs.P95, x.LatencyMs.P99, x.LatencyMs.Max, group(x.Errors), x.RatioToLookup)
		if !r.InProcess {
			cpu := "-"
			if x.ServerCPUMicrosPerOp > 0 {
				cpu = strconv.FormatFloat(x.ServerCPUMicrosPerOp, 'f', 1, 64)
			}
			fmt.Fprintf(tw, "%s\t%s\t", cpu, mib(x.ServerRSSBytes))
		}
		fmt.Fprintf(tw, "%s\t", mib(x.PeakRSSBytes))
		fmt.Fprintf(tw, "%s\t\n", mib(x.HeapInuseBytes))
	}
	for i := range r.Baselines {
		row(&r.Baselines[i])
	}
	for i := range r.Scenarios {
		row(&r.Scenarios[i])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p("\nok/s counts successful operations; latencies are theirs. × lookup is ok/s over baseline-lookup's, the figure to compare across runs.\n")
	if r.InProcess {
		p("peak RSS is this process's, server and load generator together (VmHWM, per scenario; a baseline's includes its own table); Go heap is the heap in use after the scenario.\n")
		p("process peak RSS (server + load generator) over seeding and scenarios: %s\n", mib(r.PeakRSSBytes))
	} else {
		p("server µs/op is the CPU time the row's server spent (process_cpu_seconds_total on its /metrics, before and after the row) per operation; a baseline's is its own server's, a process apart, when the tool could start one.\n")
		p("server RSS is the server's own, the largest process_resident_memory_bytes its /metrics reported before, every second during and after the row (a peak seen, not the kernel's); tool peak RSS is this process's, the load generator's (VmHWM).\n")
		p("server RSS over seeding and scenarios: %s; load generator peak: %s\n", mib(r.ServerPeakRSSBytes), mib(r.PeakRSSBytes))
	}

	p("\nWhat each row measures:\n")
	for _, rs := range [][]Result{r.Baselines, r.Scenarios} {
		for _, x := range rs {
			p("  %-20s %s\n", x.Name, x.Description)
			if x.Setup != "" {
				p("  %-20s setup: %s\n", "", x.Setup)
			}
			if x.SetupError != "" {
				p("  %-20s SETUP FAILED: %s\n", "", x.SetupError)
			}
			if len(x.Breakdown) > 0 {
				var parts []string
				for _, k := range slices.Sorted(maps.Keys(x.Breakdown)) {
					c := x.Breakdown[k]
					parts = append(parts, fmt.Sprintf("%s %s ok/%s errors", k, group(c.OK), group(c.Errors)))
				}
				p("  %-20s ops: %s\n", "", strings.Join(parts, ", "))
			}
		}
	}

	if r.TotalErrors() > 0 {
		p("\nErrors:\n")
		errorLines := func(name string, codes map[string]uint64) {
			for _, k := range slices.Sorted(maps.Keys(codes)) {
				p("  %-20s %s × %s\n", name, k, group(codes[k]))
			}
		}
		errorLines("seeding", s.ErrorCodes)
		for _, rs := range [][]Result{r.Baselines, r.Scenarios} {
			for _, x := range rs {
				errorLines(x.Name, x.ErrorCodes)
			}
		}
	}
	if len(r.Notes) > 0 || r.Interrupted {
		p("\nNotes:\n")
		if r.Interrupted {
			p("  - interrupted: the figures cover what ran before the interruption\n")
		}
		for _, n := range r.Notes {
			p("  - %s\n", n)
		}
	}
	return nil
}

// group writes n with thousands separators.
func group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func mib(b uint64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB"
}
