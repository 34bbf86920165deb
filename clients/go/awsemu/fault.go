package awsemu

import "encoding/json"

// Fault is a fault rule: calls matching Action (and Principal and Resource when set) answer
// Error and/or wait LatencyMs. Zero fields are left out, so awsemu's defaults apply: Times 0 is
// every matching call, Probability 0 is always.
type Fault struct {
	// Action is a glob over service:Action with IAM's names ("ec2:Describe*"), case-insensitive.
	Action string `json:"action"`
	// Principal is a glob over the caller: its name ("worker"), role name or ARN.
	Principal string `json:"principal,omitempty"`
	// Resource is a glob over the ARNs, ids and parameter values the request names ("vol-*").
	Resource string `json:"resource,omitempty"`
	// Error is answered instead of running the handler (nothing changes).
	Error *FaultError `json:"error,omitempty"`
	// LatencyMs holds the answer back this long.
	LatencyMs uint64 `json:"latency_ms,omitempty"`
	// Times fires for the next N matching calls only.
	Times uint32 `json:"times,omitempty"`
	// After lets the first N matching calls through.
	After uint32 `json:"after,omitempty"`
	// Probability fires with this chance per call, drawn from the server's seed.
	Probability float64 `json:"probability,omitempty"`
	// Panic makes the handler panic (the call answers 500 and the server lives on).
	Panic bool `json:"panic,omitempty"`
}

// FaultError is the error a rule answers, in the service's own envelope.
type FaultError struct {
	Code string `json:"code"`
	// Message defaults to "Injected fault: CODE".
	Message string `json:"message,omitempty"`
	// Status defaults to 400 (500 for InternalError, 503 for RequestLimitExceeded, ...).
	Status int `json:"status,omitempty"`
}

// Throttle models a service's request token buckets (RequestLimitExceeded, Throttling).
type Throttle struct {
	Service string `json:"service"`
	// Buckets overrides bucket sizes by name (EC2: non_mutating, unfiltered_unpaginated,
	// mutating, resource_intensive; other services: all).
	Buckets map[string]Bucket `json:"buckets,omitempty"`
	// PerAction gives every action its own bucket.
	PerAction bool `json:"per_action,omitempty"`
}

// Bucket is a token bucket's size.
type Bucket struct {
	Capacity        uint32  `json:"capacity"`
	RefillPerSecond float64 `json:"refill_per_second"`
}

// MarshalJSON writes the entry as awsemu takes it: {"throttle": {...}}.
func (t Throttle) MarshalJSON() ([]byte, error) {
	type plain Throttle
	return json.Marshal(struct {
		Throttle plain `json:"throttle"`
	}{plain(t)})
}

// Consistency hides what a matching create made from the next Calls describe calls of its kind,
// or for Ms of virtual time (set one of the two).
type Consistency struct {
	// Action is a glob over the creating service:Action ("ec2:CreateSecurityGroup").
	Action string `json:"action"`
	Calls  uint32 `json:"calls,omitempty"`
	Ms     uint64 `json:"ms,omitempty"`
	// Mode is "not_found" (the default: lookups by id fail) or "invisible" (lists omit it too).
	Mode string `json:"mode,omitempty"`
}

// MarshalJSON writes the entry as awsemu takes it: {"consistency": {...}}.
func (c Consistency) MarshalJSON() ([]byte, error) {
	type plain Consistency
	return json.Marshal(struct {
		Consistency plain `json:"consistency"`
	}{plain(c)})
}

// FaultListing is GET /_awsemu/faults.
type FaultListing struct {
	Rules []ActiveRule `json:"rules"`
	// Raw is the whole answer (throttle buckets, consistency entries, what is hidden).
	Raw json.RawMessage `json:"-"`
}

// ActiveRule is a rule in force with its counters.
type ActiveRule struct {
	Fault
	Seen  uint64 `json:"seen"`
	Fired uint64 `json:"fired"`
	// Remaining is what is left of Times (nil: unlimited).
	Remaining *uint64 `json:"remaining"`
	// Origin is "config" or "live".
	Origin string `json:"origin"`
}
