package agent

import (
	"fmt"
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
// ("@every 6h", at least one second). Times are in t's location.
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

// Next finds the first matching minute after t, skipping whole months,
// days and hours that cannot match. It gives up (zero time) after five
// years, which only a day that never exists (30 February) can cause.
func (c *cronSpec) Next(t time.Time) time.Time {
	loc := t.Location()
	t = t.Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		switch {
		case c.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case c.hour&(1<<uint(t.Hour())) == 0:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
		case c.minute&(1<<uint(t.Minute())) == 0:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

func (c *cronSpec) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}
