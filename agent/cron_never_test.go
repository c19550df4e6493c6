package agent

import (
	"strings"
	"testing"
)

// TestCheckSchedule: a cron expression whose days of the month no allowed
// month has is refused; everything ParseSchedule takes that can fire,
// including 29 February, is accepted.
func TestCheckSchedule(t *testing.T) {
	for _, s := range []string{"0 0 31 2 *", "0 0 30 2 *", "0 0 30,31 feb *", "0 0 31 4,6,9,11 *", "0 0 31 2 */2"} {
		if err := CheckSchedule(s); err == nil || !strings.Contains(err.Error(), "never fires") {
			t.Errorf("CheckSchedule(%q) = %v, want never fires", s, err)
		}
	}
	for _, s := range []string{"0 0 29 2 *", "0 0 31 * *", "0 0 31 2 mon", "0 2 * * *", "@every 6h", "@daily", "0 0 30 1-3 *"} {
		if err := CheckSchedule(s); err != nil {
			t.Errorf("CheckSchedule(%q) = %v, want nil", s, err)
		}
	}
	if err := CheckSchedule("61 * * * *"); err == nil {
		t.Error("CheckSchedule took a bad minute")
	}
}

// TestValidateSpec_schedule: a job whose schedule never fires is invalid.
func TestValidateSpec_schedule(t *testing.T) {
	spec := JobSpec{Source: "/tmp/a", Dest: "/tmp/b", Schedule: "0 0 31 2 *"}
	if err := validateSpec(testDrivers(t), &spec); err == nil || !strings.Contains(err.Error(), "never fires") {
		t.Fatalf("validateSpec = %v, want never fires", err)
	}
}
