package agent

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the host has
)

// fuzzZones are the locations FuzzParseSchedule computes in: UTC, zones with
// daylight saving at 02:00 and at midnight, half-hour steps and offsets.
var fuzzZones = []string{"UTC", "America/New_York", "Europe/Berlin", "America/Sao_Paulo", "Asia/Beirut",
	"America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "America/Havana"}

// FuzzParseSchedule checks ParseSchedule on arbitrary text and Next from
// times between 2000 and 2150 in several zones. A schedule never panics to
// parse; an accepted one's Next returns within 2s, in t's location.
// For "@every D" it is t+D. For a cron expression it is either the zero time,
// allowed only when no day ever matches (30 February), or the first run after
// t as cronRuns walks the clock minute by minute (checked over the first two
// days; beyond them, only that it is a run).
func FuzzParseSchedule(f *testing.F) {
	base := time.Date(2026, 3, 13, 10, 7, 30, 0, time.UTC).Unix()
	for _, s := range []string{"* * * * *", "*/15 * * * *", "0 0 31 2 *", "0 0 30 2 *", "0 0 29 2 *", "0 0 31 4,6,9,11 *",
		"*/0 * * * *", "*/-1 * * * *", "*/60 * * * *", "*/99999999999999999999 * * * *", "0-59/7 * * * *", "5-3 * * * *",
		"0 9 * * mon-fri", "0 9 * * MON,sun", "0 9 1 jan-dec *", "0 0 13 * 5", "0 0 13 * */5", "0 0 * * 7", "0 0 * * 0-7",
		"0 0 1-31/2 * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "a b c d e", "* * * *",
		"* * * * * *", "1,,2 * * * *", "- * * * *", "1- * * * *", "-1 * * * *", "1/ * * * *", "*/ * * * *", "jan * * * *",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every 6h", "@every 1s",
		"@every 999ms", "@every 0s", "@every -1h", "@every", "@every 2562047h", "@reboot", "", "   ", "\t0\n0 * * *\v*"} {
		f.Add(s, base, uint8(0))
	}
	f.Add("30 1 * * *", time.Date(2024, 11, 3, 4, 30, 0, 0, time.UTC).Unix(), uint8(1))
	f.Add("15 3 * * *", time.Date(2024, 3, 28, 0, 0, 0, 0, time.UTC).Unix(), uint8(2))
	f.Add("0 12 * * 0", base, uint8(3))
	f.Add("45 5 * * *", base, uint8(6))
	f.Add("0 0 1 * *", base, uint8(8))
	// Next's past hangs and misses, at the times reported (the target reads
	// sec as seconds after 2000-01-01).
	at := func(t time.Time) int64 { return t.Unix() - 946684800 }
	f.Add("@daily", at(time.Date(2024, 3, 10, 5, 0, 0, 0, time.UTC)), uint8(1))
	f.Add("0 3 * * *", at(time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)), uint8(1))
	f.Add("0 12 * * *", at(time.Date(2018, 11, 4, 1, 30, 0, 0, time.UTC)), uint8(3))
	f.Add("0 0 10 9 0", int64(1773396450), uint8(5))
	f.Add("0 0 10 9 0", at(time.Unix(1773396450, 0)), uint8(5))
	f.Add("*/20 * * * *", at(time.Date(2024, 11, 3, 5, 40, 0, 0, time.UTC)), uint8(1))
	f.Add("*/15 * * * *", at(time.Date(2018, 10, 28, 0, 26, 0, 0, time.UTC)), uint8(2))
	f.Add("0 0 29 2 */7", at(time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)), uint8(0))
	f.Add("0 0 31 1 */7", at(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)), uint8(0))
	f.Add("0 0 29 2 *", at(time.Date(2097, 1, 1, 0, 0, 0, 0, time.UTC)), uint8(0))
	f.Fuzz(func(t *testing.T, expr string, sec int64, zone uint8) {
		s, err := ParseSchedule(expr)
		if err != nil {
			return
		}
		loc, err := time.LoadLocation(fuzzZones[int(zone)%len(fuzzZones)])
		if err != nil {
			t.Fatal(err)
		}
		const from, span = 946684800, 150 * 365 * 24 * 3600 // 2000-01-01, 150 years
		at := time.Unix(from+int64(uint64(sec)%span), int64(uint64(sec)%1e9)).In(loc)
		next := make(chan time.Time, 1)
		go func() { next <- s.Next(at) }()
		var n time.Time
		select {
		case n = <-next:
		case <-time.After(2 * time.Second):
			// The loop in Next cannot be stopped; end the process so that
			// go test records the input instead of piling up spinning loops.
			panic(fmt.Sprintf("ParseSchedule(%q).Next(%s) does not return", expr, at))
		}
		if !n.IsZero() && n.Location() != at.Location() {
			t.Fatalf("ParseSchedule(%q).Next(%s) = %s, not in %s", expr, at, n, at.Location())
		}
		if e, ok := s.(every); ok {
			if !n.Equal(at.Add(time.Duration(e))) {
				t.Fatalf("ParseSchedule(%q).Next(%s) = %s, want %s", expr, at, n, at.Add(time.Duration(e)))
			}
			return
		}
		c := s.(*cronSpec)
		if n.IsZero() {
			if day, ok := cronSomeDay(c); ok {
				t.Fatalf("ParseSchedule(%q).Next(%s) is the zero time, but %s matches", expr, at, day)
			}
			return
		}
		if !n.After(at) || n.Second() != 0 || n.Nanosecond() != 0 {
			t.Fatalf("ParseSchedule(%q).Next(%s) = %s: not a whole minute after it", expr, at, n)
		}
		if n.Sub(at) <= 48*time.Hour {
			if runs := cronRuns(c, at, n); len(runs) == 0 || !runs[0].Equal(n) {
				t.Fatalf("ParseSchedule(%q).Next(%s) = %s, but the runs after it begin %v", expr, at, n, runs)
			}
			return
		}
		if runs := cronRuns(c, at, at.Add(48*time.Hour)); len(runs) != 0 {
			t.Fatalf("ParseSchedule(%q).Next(%s) = %s, but %s runs before it", expr, at, n, runs[0])
		}
		if runs := cronRuns(c, n.Add(-time.Minute), n); len(runs) != 1 || !runs[0].Equal(n) {
			t.Fatalf("ParseSchedule(%q).Next(%s) = %s: not a run", expr, at, n)
		}
	})
}

// cronRuns returns c's runs in (from, to], walking the clock of from's
// location a whole minute at a time: an instant is a run when the clock
// reaches, for the first time, a wall-clock minute c matches or jumps over
// one (a run is due at the first instant the clock reads its minute or
// later). It starts walking six hours early, to know which minutes the clock
// has read already when it is put back.
func cronRuns(c *cronSpec, from, to time.Time) []time.Time {
	wall := func(t time.Time) int64 { _, off := t.Zone(); return t.Unix() + int64(off) }
	m := from.Truncate(time.Minute).Add(-6 * time.Hour)
	high := wall(m) // the latest clock reading so far
	var runs []time.Time
	for m = m.Add(time.Minute); !m.After(to); m = m.Add(time.Minute) {
		w := wall(m)
		due := false
		for v := high + 60; v <= w && !due; v += 60 { // minutes read for the first time
			due = cronMatches(c, time.Unix(v, 0).UTC())
		}
		high = max(high, w)
		if due && m.After(from) {
			runs = append(runs, m)
		}
	}
	return runs
}

// cronMatches reports whether the wall clock of t matches every field of c,
// read again from the bits (both day fields restricted: either suffices).
func cronMatches(c *cronSpec, t time.Time) bool {
	has := func(bits uint64, v int) bool { return bits&(1<<uint(v)) != 0 }
	dom, dow := has(c.dom, t.Day()), has(c.dow, int(t.Weekday()))
	day := dom && dow
	if !c.domStar && !c.dowStar {
		day = dom || dow
	}
	return day && has(c.minute, t.Minute()) && has(c.hour, t.Hour()) && has(c.month, int(t.Month()))
}

// cronSomeDay returns a day c matches in some year, if there is one: every
// date that exists falls on every weekday within the 400-year Gregorian cycle.
func cronSomeDay(c *cronSpec) (string, bool) {
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		for d := 1; d <= days[m]; d++ {
			if c.month&(1<<uint(m)) != 0 && (c.dom&(1<<uint(d)) != 0 || !c.domStar && !c.dowStar) {
				return fmt.Sprintf("%s %d", time.Month(m), d), true
			}
		}
	}
	return "", false
}
