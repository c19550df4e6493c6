package agent

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule says when a scheduled job runs next.
type Schedule interface {
	// Next returns the first run time strictly after t.
	Next(t time.Time) time.Time
}

// ParseSchedule parses a schedule: a 5-field cron expression ("minute hour
// day-of-month month day-of-week", with *, lists, ranges, steps and the
// names jan…dec and sun…sat; when both day fields are restricted a day
// matching either runs, as in Vixie cron), one of @yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly, or "@every DURATION"
// ("@every 6h", at least one second). Times are in t's location. When the
// clocks go forward, a time they skip runs at the first instant after the
// gap (02:30 at 03:00); when they go back, a time read twice runs once, the
// first time.
func ParseSchedule(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "@every"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("parse schedule %q: %w", s, err)
		}
		if d < time.Second {
			return nil, fmt.Errorf("parse schedule %q: interval must be at least 1s", s)
		}
		return every(d), nil
	}
	if m, ok := cronMacros[s]; ok {
		s = m
	}
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return nil, fmt.Errorf("parse schedule %q: want 5 fields (minute hour day-of-month month day-of-week), @every DURATION or @daily-style macro, got %d fields", s, len(fields))
	}
	var c cronSpec
	for i, f := range cronFields {
		bits, err := parseCronField(fields[i], f)
		if err != nil {
			return nil, fmt.Errorf("parse schedule %q: %s field: %w", s, f.name, err)
		}
		*f.slot(&c) = bits
	}
	if c.dow&(1<<7) != 0 { // 7 is Sunday too
		c.dow |= 1
	}
	c.domStar, c.dowStar = fields[2] == "*" || strings.HasPrefix(fields[2], "*/"), fields[4] == "*" || strings.HasPrefix(fields[4], "*/")
	return &c, nil
}

// CheckSchedule parses s as ParseSchedule does and also refuses a cron
// expression that can never fire ("0 0 31 2 *": no February has a 31st),
// which ParseSchedule accepts as a schedule whose Next is always zero. A
// job's schedule is checked with it before the job is stored.
func CheckSchedule(s string) error {
	sch, err := ParseSchedule(s)
	if err != nil {
		return err
	}
	if c, ok := sch.(*cronSpec); ok && !c.canFire() {
		return fmt.Errorf("check schedule %q: it never fires: none of its months has any of its days of the month", strings.TrimSpace(s))
	}
	return nil
}

// canFire reports whether some date matches the day and month fields.
// Only a day-of-month restriction that decides alone (day-of-week "*")
// can rule every date out, by naming days that none of the allowed months
// has ("0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"); 29 February
// exists every four years and counts.
func (c *cronSpec) canFire() bool {
	if c.domStar || !c.dowStar {
		return true
	}
	for m := time.January; m <= time.December; m++ {
		if c.month&(1<<uint(m)) == 0 {
			continue
		}
		days := time.Date(2024, m+1, 0, 0, 0, 0, 0, time.UTC).Day() // 2024 is a leap year
		monthDays := uint64(1)<<uint(days+1) - 2                    // bits 1..days
		if c.dom&monthDays != 0 {
			return true
		}
	}
	return false
}

var cronMacros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// every runs at a fixed interval after the previous run.
type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// cronSpec holds one bit per allowed value of each field.
type cronSpec struct {
	minute, hour, dom, month, dow uint64
	domStar, dowStar              bool
}

type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
	slot     func(*cronSpec) *uint64
}

var cronFields = []cronField{
	{"minute", 0, 59, nil, func(c *cronSpec) *uint64 { return &c.minute }},
	{"hour", 0, 23, nil, func(c *cronSpec) *uint64 { return &c.hour }},
	{"day-of-month", 1, 31, nil, func(c *cronSpec) *uint64 { return &c.dom }},
	{"month", 1, 12, []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
		func(c *cronSpec) *uint64 { return &c.month }},
	{"day-of-week", 0, 7, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"},
		func(c *cronSpec) *uint64 { return &c.dow }},
}

// parseCronField parses "*", "*/n", "a", "a-b", "a-b/n" and comma lists.
func parseCronField(s string, f cronField) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("bad step %q", stepStr)
			}
			step = n
		}
		lo, hi := f.min, f.max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = cronValue(a, f); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = cronValue(b, f); err != nil {
					return 0, err
				}
			} else if hasStep {
				hi = f.max
			}
			if hi < lo {
				return 0, fmt.Errorf("range %q runs backwards", rng)
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

// cronValue parses a number or a name within the field's bounds.
func cronValue(s string, f cronField) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("bad value %q", s)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("value %d out of range %d-%d", v, f.min, f.max)
	}
	return v, nil
}

// Next returns the first run strictly after t, in t's location, or the
// zero time if no day ever matches (30 February). A matching wall-clock
// minute w runs at the first instant at which the clock reads w or later:
//   - on the day the clocks go forward, a minute the change skips runs at
//     the first instant after the gap (02:30 runs at 03:00 when 02:00
//     becomes 03:00), and several skipped minutes, or a skipped one and the
//     minute the gap ends at, make one run;
//   - on the day they go back, a minute the clock reads twice runs only the
//     first time.
//
// The search walks months and then the matching days, hours and minutes of
// each, and gives up after 401 years: the Gregorian calendar repeats every
// 400 years (146097 days, a whole number of weeks), so a day that matches at
// all matches within any 400 years.
func (c *cronSpec) Next(t time.Time) time.Time {
	if !c.canFire() {
		return time.Time{}
	}
	loc := t.Location()
	// A run after t reads a later wall clock than t, so it is on t's date
	// or after it.
	year, month, day := t.Date()
	for range 401*12 + 1 {
		if c.month&(1<<uint(month)) != 0 {
			days := c.monthDays(year, month) &^ (uint64(1)<<uint(day) - 1)
			for ; days != 0; days &= days - 1 {
				d := bits.TrailingZeros64(days)
				if r, ok := c.nextOnDay(t, year, month, d, loc); ok {
					return r
				}
			}
		}
		year, month, day = year+int(month)/12, month%12+1, 1
	}
	return time.Time{}
}

// monthDays returns the days of the month (bit d for day d) that match the
// day-of-month and day-of-week fields.
func (c *cronSpec) monthDays(year int, month time.Month) uint64 {
	n := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	valid := uint64(1)<<uint(n+1) - 2 // bits 1..n
	wd := int(time.Date(year, month, 1, 0, 0, 0, 0, time.UTC).Weekday())
	var dow uint64
	for d := 1; d <= n; d++ {
		if c.dow&(1<<uint((wd+d-1)%7)) != 0 {
			dow |= 1 << uint(d)
		}
	}
	dom := c.dom & valid
	if c.domStar || c.dowStar {
		return dom & dow
	}
	return (dom | dow) & valid
}

// nextOnDay returns the first run of the matching day after t, if there is
// one. Runs are in the order of their wall clocks, so an hour (or the day)
// whose last minute runs by t is skipped whole.
func (c *cronSpec) nextOnDay(t time.Time, year int, month time.Month, day int, loc *time.Location) (time.Time, bool) {
	lastHour, lastMinute := 63-bits.LeadingZeros64(c.hour), 63-bits.LeadingZeros64(c.minute)
	if !runAt(year, month, day, lastHour, lastMinute, loc).After(t) {
		return time.Time{}, false
	}
	for hours := c.hour; hours != 0; hours &= hours - 1 {
		h := bits.TrailingZeros64(hours)
		if !runAt(year, month, day, h, lastMinute, loc).After(t) {
			continue
		}
		for minutes := c.minute; minutes != 0; minutes &= minutes - 1 {
			if r := runAt(year, month, day, h, bits.TrailingZeros64(minutes), loc); r.After(t) {
				return r, true
			}
		}
	}
	return time.Time{}, false // not reached: the day's last minute runs after t
}

// runAt returns when the wall-clock minute runs in loc: the first instant
// at which loc's clock reads it or later. That is the minute itself where it
// exists (its first occurrence when the clock is put back over it) and the
// end of the gap where the clock is put forward over it.
func runAt(year int, month time.Month, day, hour, minute int, loc *time.Location) time.Time {
	w := time.Date(year, month, day, hour, minute, 0, 0, time.UTC).Unix()
	r := time.Date(year, month, day, hour, minute, 0, 0, loc)
	// In a gap time.Date may answer an instant before it: move to the
	// period that follows, whose clock reads w or later.
	for range 4 {
		_, end := r.ZoneBounds()
		if wallClock(r) >= w || end.IsZero() {
			break
		}
		r = end
	}
	// Move back into the previous period while its clock, ahead of r's,
	// read w or later before the change; then take the earliest instant
	// of the period whose clock reads w or later.
	for range 4 {
		start, _ := r.ZoneBounds()
		_, off := r.Zone()
		u := w - int64(off)
		if start.IsZero() {
			return time.Unix(u, 0).In(loc)
		}
		before := time.Unix(start.Unix()-1, 0).In(loc)
		if wallClock(before) < w {
			return time.Unix(max(u, start.Unix()), 0).In(loc)
		}
		r = before
	}
	return r
}

// wallClock returns t's clock reading as seconds since the epoch, as if
// its location were UTC.
func wallClock(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}
