package main

import (
	"fmt"
	"io"
	"strings"
)

// result is one scenario's line of the table and its notes.
type result struct {
	name    string
	checked int
	// faults says how many faults were injected, and of what kind.
	faults                    string
	lost, corrupted, orphaned int
	// problems fail the scenario beyond lost and corrupted objects: a run
	// that should have succeeded and did not, stale objects, a check that
	// could not run.
	problems []string
	// notes are worth reading but fail nothing (runs that exited non-zero
	// under faults before a later run finished, extra objects…).
	notes []string
}

// ok reports whether the scenario passed: nothing lost or corrupted and
// no problem.
func (r *result) ok() bool { return r.lost == 0 && r.corrupted == 0 && len(r.problems) == 0 }

func (r *result) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// verdict is the table's result column.
func (r *result) verdict() string {
	switch {
	case !r.ok():
		return "**FAIL**"
	case r.orphaned > 0:
		return "pass (orphaned uploads)"
	}
	return "pass"
}

// printTable writes the Markdown table of rs, then each scenario's
// problems and notes.
func printTable(w io.Writer, rs []*result) {
	fmt.Fprintln(w, "| scenario | objects checked | faults injected | lost | corrupted | orphaned uploads | result |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %s | %d | %d | %d | %s |\n",
			r.name, r.checked, r.faults, r.lost, r.corrupted, r.orphaned, r.verdict())
	}
	for _, r := range rs {
		if len(r.problems)+len(r.notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n**%s**\n", r.name)
		for _, p := range r.problems {
			fmt.Fprintf(w, "- problem: %s\n", oneLine(p))
		}
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", oneLine(n))
		}
	}
}

// noteMax bounds one note's length in the output (logs have all of it).
const noteMax = 400

// oneLine flattens s and bounds its length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > noteMax {
		s = s[:noteMax] + "…"
	}
	return s
}

// sample renders up to 3 of keys for a note.
func sample(keys []string) string {
	if len(keys) > 3 {
		return strings.Join(keys[:3], ", ") + fmt.Sprintf(" (+%d)", len(keys)-3)
	}
	return strings.Join(keys, ", ")
}
