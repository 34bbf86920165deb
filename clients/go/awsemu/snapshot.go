package awsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Snapshot is a whole world the server keeps (POST /_awsemu/snapshots): resources, ids, the
// virtual clock, IAM entities, faults. Restore(ID) puts it back, so a test can build an
// expensive world once and give each case its own copy of it.
type Snapshot struct {
	// ID is snap-1, snap-2, … in the order they were taken.
	ID string `json:"id"`
	// ClockMS is the virtual time it was taken at, ms since the epoch; Time the same in ISO 8601.
	ClockMS   int64  `json:"clock_ms"`
	Time      string `json:"time"`
	Instances int    `json:"instances"`
	Volumes   int    `json:"volumes"`
}

// Snapshot keeps the world as it is now and answers it (its ID restores it). Snapshots survive
// Reset and Restore.
func (s *Server) Snapshot() (Snapshot, error) {
	body, err := s.Admin(http.MethodPost, "snapshots", nil)
	if err != nil {
		return Snapshot{}, err
	}
	var snap Snapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		return Snapshot{}, fmt.Errorf("POST /_awsemu/snapshots: %v", err)
	}
	return snap, nil
}

// Restore puts back the world of snapshot id: from then on the server answers as it did when
// the snapshot was taken (the same ids next, the same clock).
func (s *Server) Restore(id string) error {
	_, err := s.Admin(http.MethodPost, "snapshots/"+id+"/restore", nil)
	return err
}

// DeleteSnapshot forgets snapshot id (the server keeps every snapshot in memory until then).
func (s *Server) DeleteSnapshot(id string) error {
	_, err := s.Admin(http.MethodDelete, "snapshots/"+id, nil)
	return err
}

// Snapshots lists the snapshots taken, oldest first.
func (s *Server) Snapshots() ([]Snapshot, error) {
	body, err := s.Admin(http.MethodGet, "snapshots", nil)
	if err != nil {
		return nil, err
	}
	var l struct {
		Snapshots []Snapshot `json:"snapshots"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("GET /_awsemu/snapshots: %v", err)
	}
	return l.Snapshots, nil
}

// SaveState writes the world to the server's state file now (POST /_awsemu/snapshot; start it
// WithStateFile).
func (s *Server) SaveState() error {
	_, err := s.Admin(http.MethodPost, "snapshot", nil)
	return err
}
