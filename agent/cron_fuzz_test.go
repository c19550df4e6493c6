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
// allowed only when no day ever matches (30 February), or a time strictly
// after t, on a whole minute, that matches every field, with no matching
// minute between t and it (checked over the first two days).
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
		if !n.After(at) || n.Second() != 0 || n.Nanosecond() != 0 || !cronMatches(c, n) {
			t.Fatalf("ParseSchedule(%q).Next(%s) = %s: not a matching whole minute after it", expr, at, n)
		}
		for m := at.Truncate(time.Minute).Add(time.Minute); m.Before(n) && m.Sub(at) < 48*time.Hour; m = m.Add(time.Minute) {
			if cronMatches(c, m) {
				t.Fatalf("ParseSchedule(%q).Next(%s) = %s, but %s matches before it", expr, at, n, m)
			}
		}
	})
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
