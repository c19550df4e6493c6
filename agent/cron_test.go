package agent

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule_Next(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	from := at("2026-03-13 10:07:30") // a Friday
	for _, c := range []struct{ spec, want string }{
		{"* * * * *", "2026-03-13 10:08:00"},
		{"*/15 * * * *", "2026-03-13 10:15:00"},
		{"0 2 * * *", "2026-03-14 02:00:00"},
		{"30 9-17/4 * * *", "2026-03-13 13:30:00"},
		{"0 0 1 * *", "2026-04-01 00:00:00"},
		{"0 12 * * mon-wed", "2026-03-16 12:00:00"},
		{"0 12 * * 0", "2026-03-15 12:00:00"},
		{"0 12 * * 7", "2026-03-15 12:00:00"},
		{"0 0 31 * *", "2026-03-31 00:00:00"},
		{"0 0 * feb *", "2027-02-01 00:00:00"},
		{"0 0 1,15 * *", "2026-03-15 00:00:00"},
		{"0 0 20 * fri", "2026-03-20 00:00:00"}, // day 20 OR any Friday (Vixie): Friday the 20th first
		{"0 0 14 * mon", "2026-03-14 00:00:00"}, // the 14th comes before Monday
		{"@hourly", "2026-03-13 11:00:00"},
		{"@daily", "2026-03-14 00:00:00"},
		{"@weekly", "2026-03-15 00:00:00"},
		{"@monthly", "2026-04-01 00:00:00"},
		{"@yearly", "2027-01-01 00:00:00"},
		{"@every 6h", "2026-03-13 16:07:30"},
		{"@every 90s", "2026-03-13 10:09:00"},
	} {
		s, err := ParseSchedule(c.spec)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", c.spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(at(c.want)) {
			t.Errorf("%q.Next(%v) = %v, want %s", c.spec, from, got, c.want)
		}
	}
	if s, _ := ParseSchedule("0 0 30 2 *"); !s.Next(from).IsZero() {
		t.Error("30 February ran")
	}
}

func TestParseSchedule_invalid(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"", "5 fields"},
		{"* * * *", "5 fields"},
		{"* * * * * *", "5 fields"},
		{"60 * * * *", "minute field: value 60 out of range 0-59"},
		{"* 24 * * *", "hour field"},
		{"* * 0 * *", "day-of-month field"},
		{"* * * 13 *", "month field"},
		{"* * * * 8", "day-of-week field"},
		{"*/0 * * * *", "bad step"},
		{"5-1 * * * *", "backwards"},
		{"a * * * *", "bad value"},
		{"@every", "@every"},
		{"@every 10ms", "at least 1s"},
		{"@sometimes", "5 fields"},
	} {
		_, err := ParseSchedule(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", c.spec, err, c.want)
		}
	}
}
