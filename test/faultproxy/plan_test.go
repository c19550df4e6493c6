package faultproxy

import (
	"math"
	"testing"
)

// TestPlan_Rates: over many connections each fault is drawn at its rate,
// directions are both drawn under Either, and trigger counts stay within
// MaxBytes.
func TestPlan_Rates(t *testing.T) {
	r := Rates{Reset: 0.05, Stall: 0.10, Cut: 0.15}
	const n = 20000
	count := map[Kind]int{}
	dirs := map[Direction]int{}
	for i := uint64(0); i < n; i++ {
		p := planFor(9, i, r, Either, 1000)
		count[p.Kind]++
		dirs[p.Dir]++
		if p.After < 0 || p.After > 1000 || p.Conn != i {
			t.Fatalf("plan %+v: trigger outside [0, 1000] or wrong index", p)
		}
	}
	for k, want := range map[Kind]float64{Reset: r.Reset, Stall: r.Stall, Cut: r.Cut, None: 1 - r.Total()} {
		if got := float64(count[k]) / n; math.Abs(got-want) > 0.02 {
			t.Errorf("%v drawn for %.3f of connections, want %.3f", k, got, want)
		}
	}
	if dirs[Up] < n/3 || dirs[Down] < n/3 || dirs[Either] != 0 {
		t.Errorf("directions %v: want both Up and Down drawn, never Either", dirs)
	}
	if p := planFor(9, 0, r, Down, 1000); p.Dir != Down {
		t.Errorf("plan %+v under Direction Down", p)
	}
}

// TestOptions_WithDefaults: invalid options are refused, defaults filled.
func TestOptions_WithDefaults(t *testing.T) {
	for _, o := range []Options{
		{},
		{Target: "x:1", Rates: Rates{Reset: -0.1}},
		{Target: "x:1", Rates: Rates{Reset: 0.5, Cut: 0.6}},
		{Target: "x:1", Direction: Direction(7)},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted invalid options", o)
		}
	}
	o, err := Options{Target: "x:1"}.withDefaults()
	if err != nil || o.Listen != "127.0.0.1:0" || o.MaxBytes <= 0 || o.StallFor <= 0 || o.DialTimeout <= 0 {
		t.Fatalf("defaults %+v, %v", o, err)
	}
	if d, err := ParseDirection("down"); err != nil || d != Down {
		t.Fatalf("ParseDirection(down) = %v, %v", d, err)
	}
	if _, err := ParseDirection("sideways"); err == nil {
		t.Fatal("ParseDirection accepted sideways")
	}
}
