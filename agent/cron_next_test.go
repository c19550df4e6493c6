package agent

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the host has
)

// nextWithin returns ParseSchedule(spec).Next(from), failing the test
// instead of stalling it when Next does not return within 5s.
func nextWithin(t *testing.T, spec string, from time.Time) time.Time {
	t.Helper()
	s, err := ParseSchedule(spec)
	if err != nil {
		t.Fatalf("ParseSchedule(%q): %v", spec, err)
	}
	next := make(chan time.Time, 1)
	go func() { next <- s.Next(from) }()
	select {
	case n := <-next:
		return n
	case <-time.After(5 * time.Second):
		t.Fatalf("ParseSchedule(%q).Next(%s) does not return", spec, from)
		return time.Time{}
	}
}

// zone loads a location, failing the test if it cannot.
func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

type nextCase struct {
	spec string
	from time.Time
	want time.Time
}

func checkNext(t *testing.T, cases []nextCase) {
	t.Helper()
	for _, c := range cases {
		got := nextWithin(t, c.spec, c.from)
		if !got.Equal(c.want) || got.Location() != c.from.Location() {
			t.Errorf("%q.Next(%s) = %s, want %s", c.spec, c.from, got, c.want)
		}
	}
}

// TestParseSchedule_NextDSTGap: a time the clocks skip (going forward) lies
// ahead. Next never moves back, and a skipped minute runs at the first
// instant after the gap, once however many minutes the gap swallowed.
func TestParseSchedule_NextDSTGap(t *testing.T) {
	ny, sp, cl, lh := zone(t, "America/New_York"), zone(t, "America/Sao_Paulo"), zone(t, "America/Santiago"), zone(t, "Australia/Lord_Howe")
	checkNext(t, []nextCase{
		// The reported hangs.
		{"@daily", time.Date(2024, 3, 10, 0, 0, 0, 0, ny), time.Date(2024, 3, 11, 0, 0, 0, 0, ny)},
		{"0 3 * * *", time.Date(2024, 3, 9, 7, 0, 0, 0, ny), time.Date(2024, 3, 10, 3, 0, 0, 0, ny)},
		{"0 12 * * *", time.Date(2018, 11, 3, 23, 30, 0, 0, sp), time.Date(2018, 11, 4, 12, 0, 0, 0, sp)},
		// Fuzzer: day 10 or a Sunday of September at 00:00; Sunday 6
		// September 2026 starts at 01:00 in Santiago.
		{"0 0 10 9 0", time.Unix(1773396450, 0).In(cl), time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC).In(cl)},
		// 02:30 does not exist on 10 March 2024 in New York (02:00 EST
		// becomes 03:00 EDT): it runs at 03:00, and the next day at 02:30.
		{"30 2 * * *", time.Date(2024, 3, 10, 0, 0, 0, 0, ny), time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC).In(ny)},
		{"30 2 * * *", time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC).In(ny), time.Date(2024, 3, 11, 2, 30, 0, 0, ny)},
		// 02:00-02:45 and 03:00 all run at 03:00, once.
		{"*/15 * * * *", time.Date(2024, 3, 10, 6, 45, 0, 0, time.UTC).In(ny), time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC).In(ny)},
		{"*/15 * * * *", time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC).In(ny), time.Date(2024, 3, 10, 7, 15, 0, 0, time.UTC).In(ny)},
		// Midnight does not exist on 4 November 2018 in São Paulo.
		{"@daily", time.Date(2018, 11, 3, 12, 0, 0, 0, sp), time.Date(2018, 11, 4, 3, 0, 0, 0, time.UTC).In(sp)},
		// Lord Howe goes from 02:00 to 02:30 on 6 October 2024.
		{"15 2 * * *", time.Date(2024, 10, 6, 0, 0, 0, 0, lh), time.Date(2024, 10, 5, 15, 30, 0, 0, time.UTC).In(lh)},
	})
}

// TestParseSchedule_NextDSTRepeat: a time the clock reads twice (going
// back) runs only the first time.
func TestParseSchedule_NextDSTRepeat(t *testing.T) {
	ny, lh, cl, be := zone(t, "America/New_York"), zone(t, "Australia/Lord_Howe"), zone(t, "America/Santiago"), zone(t, "Europe/Berlin")
	edt := func(h, m int) time.Time { return time.Date(2024, 11, 3, h+4, m, 0, 0, time.UTC).In(ny) }
	est := func(h, m int) time.Time { return time.Date(2024, 11, 3, h+5, m, 0, 0, time.UTC).In(ny) }
	checkNext(t, []nextCase{
		{"30 1 * * *", edt(0, 30), edt(1, 30)},
		{"30 1 * * *", edt(1, 40), time.Date(2024, 11, 4, 1, 30, 0, 0, ny)},
		{"30 1 * * *", est(1, 10), time.Date(2024, 11, 4, 1, 30, 0, 0, ny)},
		{"*/20 1 * * *", edt(1, 40), time.Date(2024, 11, 4, 1, 0, 0, 0, ny)},
		{"*/20 * * * *", edt(1, 40), est(2, 0)},
		{"*/20 * * * *", est(1, 5), est(2, 0)},
		// Lord Howe goes from 02:00 back to 01:30 on 7 April 2024.
		{"45 1 * * *", time.Date(2024, 4, 6, 14, 40, 0, 0, time.UTC).In(lh), time.Date(2024, 4, 6, 14, 45, 0, 0, time.UTC).In(lh)},
		{"45 1 * * *", time.Date(2024, 4, 6, 14, 50, 0, 0, time.UTC).In(lh), time.Date(2024, 4, 8, 1, 45, 0, 0, lh)},
		// Berlin goes from 03:00 back to 02:00 on 28 October 2018; for a
		// time read twice there time.Date answers the second reading.
		{"15 2 * * *", time.Date(2018, 10, 27, 23, 0, 0, 0, time.UTC).In(be), time.Date(2018, 10, 28, 0, 15, 0, 0, time.UTC).In(be)},
		{"*/15 * * * *", time.Date(2018, 10, 28, 0, 26, 0, 0, time.UTC).In(be), time.Date(2018, 10, 28, 0, 30, 0, 0, time.UTC).In(be)},
		{"*/15 * * * *", time.Date(2018, 10, 28, 1, 24, 0, 0, time.UTC).In(be), time.Date(2018, 10, 28, 2, 0, 0, 0, time.UTC).In(be)},
		// Santiago goes from 24:00 back to 23:00 on 6 April 2024.
		{"30 23 * * *", time.Date(2024, 4, 7, 2, 40, 0, 0, time.UTC).In(cl), time.Date(2024, 4, 7, 23, 30, 0, 0, cl)},
	})
}

// TestParseSchedule_NextAroundClockChanges: from times around the first
// two clock changes after 2024 in each of fuzzZones, Next is the first run
// cronRuns finds walking the clock minute by minute.
func TestParseSchedule_NextAroundClockChanges(t *testing.T) {
	specs := []string{"@daily", "@hourly", "*/15 * * * *", "*/7 0-3 * * *", "30 2 * * *", "45 1 * * *",
		"15,45 2,3 * * *", "30 23 * * *", "59 23 * * *", "0 1 * * 0", "0 0 1 * *"}
	for _, name := range fuzzZones {
		loc := zone(t, name)
		change := time.Date(2024, 1, 1, 0, 0, 0, 0, loc)
		for range 2 {
			if _, change = change.ZoneBounds(); change.IsZero() {
				break
			}
			for _, spec := range specs {
				s, err := ParseSchedule(spec)
				if err != nil {
					t.Fatal(err)
				}
				for d := -150 * time.Minute; d <= 150*time.Minute; d += 29 * time.Minute {
					from := change.Add(d + 17*time.Second)
					got := nextWithin(t, spec, from)
					const window = 50 * time.Hour
					runs := cronRuns(s.(*cronSpec), from, from.Add(window))
					if len(runs) == 0 && !got.After(from.Add(window)) || len(runs) > 0 && !got.Equal(runs[0]) {
						t.Errorf("%s: %q.Next(%s) = %s, want the first of %v", name, spec, from, got, runs)
					}
				}
			}
		}
	}
}

// TestParseSchedule_NextFar: schedules that fire more than five years
// ahead are found, quickly, and one that never fires gives the zero time.
func TestParseSchedule_NextFar(t *testing.T) {
	utc := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	checkNext(t, []nextCase{
		{"0 0 29 2 */7", utc(2005, 1, 1), utc(2032, 2, 29)}, // the next 29 February on a Sunday
		{"0 0 31 1 */7", utc(2027, 2, 1), utc(2038, 1, 31)},
		{"0 0 29 2 *", utc(2097, 1, 1), utc(2104, 2, 29)}, // 2100 is not a leap year
		{"0 0 29 2 1", utc(2097, 1, 1), utc(2097, 2, 4)},  // in February: the 29th or a Monday
		{"0 0 13 * 5", utc(2026, 3, 1), utc(2026, 3, 6)},
	})
	for _, spec := range []string{"0 0 30 2 *", "0 0 31 2 */7", "0 0 31 4,6,9,11 *"} {
		if n := nextWithin(t, spec, utc(2026, 1, 1)); !n.IsZero() {
			t.Errorf("%q.Next = %s, want the zero time", spec, n)
		}
	}
	s, err := ParseSchedule("0 0 29 2 */7")
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(10, func() { s.Next(utc(2005, 1, 1)) }); n > 0 {
		t.Errorf("Next allocates %v times", n)
	}
	start := time.Now()
	for y := 2000; y < 2400; y++ {
		s.Next(utc(y, 3, 1))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("400 calls to Next took %s", d)
	}
}
