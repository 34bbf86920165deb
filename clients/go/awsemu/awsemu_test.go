package awsemu

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// These tests use the standard library only; sdktest drives a server with the AWS SDK for Go v2.

func TestStartAnswersTheBanner(t *testing.T) {
	s := Start(t)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+$`).MatchString(s.Endpoint()) {
		t.Fatalf("endpoint %q", s.Endpoint())
	}
	if s.Region() != "us-east-1" || s.AccountID() != "123456789012" || s.IAM() != "enforce" {
		t.Fatalf("region %q account %q iam %q", s.Region(), s.AccountID(), s.IAM())
	}
	if got := strings.Join(s.Principals(), ","); got != "admin,controlplane,etcd,worker" {
		t.Fatalf("principals %s", got)
	}
	for role, key := range map[string]string{"": "test", "admin": "test", "worker": "worker", "controlplane": "controlplane", "etcd": "etcd"} {
		c, err := s.Credentials(role)
		if err != nil || c.AccessKeyID != key || c.SecretAccessKey != key || c.SessionToken != "" {
			t.Errorf("Credentials(%q) = %+v, %v", role, c, err)
		}
	}
	body, err := s.Admin(http.MethodGet, "health", nil)
	if err != nil || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("health: %s %v", body, err)
	}
	env, err := s.Env("worker")
	if err != nil || strings.Join(env, " ") != "AWS_ENDPOINT_URL="+s.Endpoint()+" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=worker AWS_SECRET_ACCESS_KEY=worker" {
		t.Fatalf("Env: %v %v", env, err)
	}
}

func TestOptionsReachTheServer(t *testing.T) {
	s := Start(t, WithSeed(7), WithRegion("eu-west-1"), WithAccountID("111122223333"), WithIAM("audit"), WithTiming("fast"))
	if s.Region() != "eu-west-1" || s.AccountID() != "111122223333" || s.IAM() != "audit" {
		t.Fatalf("region %q account %q iam %q", s.Region(), s.AccountID(), s.IAM())
	}
}

func TestServersAreIsolated(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Endpoint() == b.Endpoint() {
		t.Fatalf("both on %s", a.Endpoint())
	}
	if err := a.Inject(Fault{Action: "ec2:DescribeVolumes", Error: &FaultError{Code: "InternalError"}}); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[*Server]int{a: 1, b: 0} {
		l, err := s.Faults()
		if err != nil || len(l.Rules) != want {
			t.Fatalf("%s: %d rules, want %d (%v)", s.Endpoint(), len(l.Rules), want, err)
		}
	}
}

func TestInjectTakesStructsAndRawJSON(t *testing.T) {
	s := Start(t)
	err := s.Inject(
		Fault{Action: "ec2:CreateVolume", Principal: "controlplane", Error: &FaultError{Code: "InsufficientVolumeCapacity", Message: "none left", Status: 503}, Times: 2},
		`{"action": "ec2:Describe*", "latency_ms": 5, "after": 1}`,
		Throttle{Service: "ec2", Buckets: map[string]Bucket{"mutating": {Capacity: 5, RefillPerSecond: 1}}},
		Consistency{Action: "ec2:CreateSecurityGroup", Calls: 2},
	)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Faults()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Rules) != 2 {
		t.Fatalf("rules: %s", l.Raw)
	}
	r := l.Rules[0]
	if r.Action != "ec2:CreateVolume" || r.Error == nil || r.Error.Status != 503 || r.Remaining == nil || *r.Remaining != 2 || r.Origin != "live" {
		t.Fatalf("first rule: %+v (%s)", r, l.Raw)
	}
	var raw struct {
		Throttle    []json.RawMessage `json:"throttle"`
		Consistency []json.RawMessage `json:"consistency"`
	}
	if err := json.Unmarshal(l.Raw, &raw); err != nil || len(raw.Throttle) != 1 || len(raw.Consistency) != 1 {
		t.Fatalf("listing: %s (%v)", l.Raw, err)
	}
	// One bad entry adds none of a call's entries.
	if err := s.Inject(Fault{Action: "ec2:RunInstances", LatencyMs: 1}, `{"action": "ec2:RunInstances", "latency_ms": 1, "tiems": 1}`); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a misspelt key was accepted: %v", err)
	}
	if err := s.Inject(`{"action": `); err == nil {
		t.Fatal("invalid JSON was sent")
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Faults(); err != nil || len(l.Rules) != 0 {
		t.Fatalf("after reset: %s %v", l.Raw, err)
	}
	if err := s.Inject(Fault{Action: "ec2:RunInstances", Panic: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Faults(); err != nil || len(l.Rules) != 0 {
		t.Fatalf("after clear: %s %v", l.Raw, err)
	}
}

func TestConfigJSONPrincipalsAndTheirKeys(t *testing.T) {
	s, err := New(WithConfigJSON([]byte(`{"principals": [{"name": "ci-bot", "access_key_id": "AKIACI", "secret_access_key": "s3cret", "policies": ["worker"]}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	config := s.cleanup[0]
	c, err := s.Credentials("ci-bot")
	if err != nil || c.AccessKeyID != "AKIACI" || c.SecretAccessKey != "s3cret" {
		t.Fatalf("ci-bot: %+v %v", c, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(config); !os.IsNotExist(err) {
		t.Fatalf("config file left behind: %v", err)
	}
}

func TestAssumingARoleThatDoesNotExistIsRefused(t *testing.T) {
	s := Start(t)
	_, err := s.Credentials("nobody")
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "arn:aws:iam::123456789012:role/nobody") {
		t.Fatalf("got %v", err)
	}
}

func TestCloseStopsTheServer(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(s.Endpoint() + "/_awsemu/health"); err == nil {
		t.Fatal("the server still answers")
	}
}

func TestAFailedStartSaysWhy(t *testing.T) {
	_, err := New(WithIAM("sometimes"))
	if err == nil || !strings.Contains(err.Error(), "sometimes") {
		t.Fatalf("got %v", err)
	}
	_, err = New(WithBinary("/nonexistent/awsemu"))
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/awsemu") {
		t.Fatalf("got %v", err)
	}
}

func TestTheRepositoryIsFoundThroughLinks(t *testing.T) {
	wd, _ := os.Getwd()
	root := repoRoot(wd)
	if root == "" {
		t.Skip("not inside the awsemu repository")
	}
	if _, err := os.Stat(root + "/clients/go/awsemu/go.mod"); err != nil {
		t.Fatalf("root %s: %v", root, err)
	}
}
