package us3emu

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// DefaultBlkSize is the multipart block size US3 uses and the emulator
// returns from InitiateMultipart unless Options.BlkSize says otherwise.
const DefaultBlkSize = 4 << 20

// Options configure a Server.
type Options struct {
	// Root is the data directory; bucket b is stored under Root/b.
	Root string
	// PublicKey and PrivateKey are the one key pair requests must be signed with.
	PublicKey, PrivateKey string
	// Buckets lists the buckets that exist (their directories are created).
	// The first one is the default bucket (see the package doc).
	Buckets []string
	// BlkSize is the multipart block size returned by initiate; 0 means DefaultBlkSize.
	BlkSize int64
	// Faults are injected from the start; SetFaults changes them later.
	Faults Faults
	// Logger receives one debug record per request; nil discards.
	Logger *slog.Logger
	// RestoreDelay is how long a restore of an ARCHIVE object takes (see
	// archive.go); 0 means DefaultRestoreDelay.
	RestoreDelay time.Duration
}

// Faults describe failures injected into object requests (never into the
// admin API). In JSON they read {"error_rate":0.3,"drop_rate":0.1,"latency_ms":20}.
type Faults struct {
	// ErrorRate is the fraction (0..1) of requests answered 500 or 503.
	ErrorRate float64
	// DropRate is the fraction (0..1) of requests whose connection is
	// closed mid-body.
	DropRate float64
	// Latency is added to every request.
	Latency time.Duration
}

type faultsJSON struct {
	ErrorRate float64 `json:"error_rate"`
	DropRate  float64 `json:"drop_rate"`
	LatencyMS float64 `json:"latency_ms"`
}

// MarshalJSON writes the admin API shape (error_rate, drop_rate, latency_ms).
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		ErrorRate: f.ErrorRate,
		DropRate:  f.DropRate,
		LatencyMS: float64(f.Latency) / float64(time.Millisecond),
	})
}

// UnmarshalJSON reads the admin API shape (error_rate, drop_rate, latency_ms).
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("decode faults: %w", err)
	}
	*f = Faults{
		ErrorRate: j.ErrorRate,
		DropRate:  j.DropRate,
		Latency:   time.Duration(j.LatencyMS * float64(time.Millisecond)),
	}
	return nil
}

// Validate reports rates outside 0..1 or a negative latency.
func (f Faults) Validate() error {
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		return fmt.Errorf("validate faults: error rate %v not in [0,1]", f.ErrorRate)
	}
	if f.DropRate < 0 || f.DropRate > 1 {
		return fmt.Errorf("validate faults: drop rate %v not in [0,1]", f.DropRate)
	}
	if f.Latency < 0 {
		return fmt.Errorf("validate faults: negative latency %v", f.Latency)
	}
	return nil
}

// Stats are counters since start or the last reset.
type Stats struct {
	// Requests counts every object request by operation name: PutFile,
	// PostFile, GetFile, HeadFile, DeleteFile, Copy, ListObjects,
	// PrefixFileList, InitiateMultipart, UploadPart, UploadPartCopy,
	// FinishMultipart, AbortMultipart, ListParts, GetMultiUploadId,
	// PutObjectTagging, GetObjectTagging, DeleteObjectTagging, PutObjectAcl,
	// GetObjectAcl, Restore, ClassSwitch, Unknown.
	Requests map[string]int64 `json:"requests"`
	// Succeeded counts the requests answered 2xx, by operation name.
	Succeeded map[string]int64 `json:"succeeded"`
	// InjectedErrors and InjectedDrops count injected faults;
	// FaultsInjected is their sum.
	InjectedErrors int64 `json:"injected_errors"`
	InjectedDrops  int64 `json:"injected_drops"`
	FaultsInjected int64 `json:"faults_injected"`
	// AuthFailures counts requests refused 401/403.
	AuthFailures int64 `json:"auth_failures"`
	// BytesIn counts object bytes stored from request bodies (PutFile,
	// PostFile, UploadPart); BytesOut counts object bytes sent by GetFile.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
}

// PendingUpload is a multipart upload initiated but neither finished nor aborted.
type PendingUpload struct {
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	UploadID  string    `json:"upload_id"`
	Parts     int       `json:"parts"` // parts held
	Bytes     int64     `json:"bytes"` // bytes held in those parts
	Initiated time.Time `json:"initiated"`
}

func (o *Options) normalize() error {
	if o.RestoreDelay <= 0 {
		o.RestoreDelay = DefaultRestoreDelay
	}
	if o.Root == "" {
		return fmt.Errorf("check options: empty Root")
	}
	if o.PublicKey == "" || o.PrivateKey == "" {
		return fmt.Errorf("check options: empty key pair")
	}
	if len(o.Buckets) == 0 {
		return fmt.Errorf("check options: no bucket")
	}
	seen := map[string]bool{}
	for _, b := range o.Buckets {
		if !validBucketName(b) {
			return fmt.Errorf("check options: invalid bucket name %q", b)
		}
		if seen[b] {
			return fmt.Errorf("check options: duplicate bucket %q", b)
		}
		seen[b] = true
	}
	if o.BlkSize < 0 {
		return fmt.Errorf("check options: negative BlkSize")
	}
	if o.BlkSize == 0 {
		o.BlkSize = DefaultBlkSize
	}
	if err := o.Faults.Validate(); err != nil {
		return fmt.Errorf("check options: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// validBucketName accepts names usable as one directory and one DNS label.
func validBucketName(b string) bool {
	if b == "" || len(b) > 63 || strings.HasPrefix(b, ".") || strings.HasPrefix(b, "-") {
		return false
	}
	for _, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 'A' && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}
