package awsemu

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ec2Call signs an EC2 query call with the admin keys and answers its body.
func ec2Call(t *testing.T, s *Server, body string) string {
	t.Helper()
	admin, err := s.Credentials("admin")
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.Endpoint()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sign(req, []byte(body), admin, s.Region(), "ec2", time.Now().UTC())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", body, out)
	}
	return string(out)
}

const createVolume = "Action=CreateVolume&Version=2016-11-15&AvailabilityZone=us-east-1a&Size=10"

var volumeID = regexp.MustCompile(`<volumeId>(vol-[0-9a-f]+)</volumeId>`)

func TestSnapshotAndRestore(t *testing.T) {
	s := Start(t, WithSeed(7))
	first := volumeID.FindStringSubmatch(ec2Call(t, s, createVolume))[1]
	snap, err := s.Snapshot()
	if err != nil || snap.ID != "snap-1" || snap.Volumes != 1 {
		t.Fatalf("Snapshot: %+v %v", snap, err)
	}
	second := volumeID.FindStringSubmatch(ec2Call(t, s, createVolume))[1]
	if err := s.Restore(snap.ID); err != nil {
		t.Fatal(err)
	}
	// The same ids next: the volume made after the snapshot is made again.
	if again := volumeID.FindStringSubmatch(ec2Call(t, s, createVolume))[1]; again != second {
		t.Fatalf("after Restore made %s, want %s", again, second)
	}
	listed := volumeID.FindAllStringSubmatch(ec2Call(t, s, "Action=DescribeVolumes&Version=2016-11-15"), -1)
	if len(listed) != 2 || listed[0][1] == listed[1][1] {
		t.Fatalf("volumes %v (first %s)", listed, first)
	}
	if l, err := s.Snapshots(); err != nil || len(l) != 1 || l[0].ID != "snap-1" {
		t.Fatalf("Snapshots: %+v %v", l, err)
	}
	if err := s.Restore("snap-9"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Restore(snap-9): %v", err)
	}
	if err := s.DeleteSnapshot(snap.ID); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Snapshots(); err != nil || len(l) != 0 {
		t.Fatalf("Snapshots after DeleteSnapshot: %+v %v", l, err)
	}
}

func TestStateFileKeepsTheWorldAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.json")
	a := Start(t, WithStateFile(path))
	made := volumeID.FindStringSubmatch(ec2Call(t, a, createVolume))[1]
	if err := a.SaveState(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := Start(t, WithStateFile(path))
	if got := ec2Call(t, b, "Action=DescribeVolumes&Version=2016-11-15"); !strings.Contains(got, made) {
		t.Fatalf("%s is gone after a restart: %s", made, got)
	}
}
