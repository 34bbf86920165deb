package awsemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Admin calls a control endpoint, METHOD /_awsemu/PATH (README lists them: "state", "calls",
// "audit", "faults", ...), and answers its body. A status other than 200 is an error.
func (s *Server) Admin(method, path string, body []byte) ([]byte, error) {
	url := s.endpoint + "/_awsemu/" + strings.TrimPrefix(path, "/")
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

// Reset puts the server back to its start-up world: resources, sessions and live faults are
// gone; the config's principals, roles and faults are back.
func (s *Server) Reset() error {
	_, err := s.Admin(http.MethodPost, "reset", nil)
	return err
}

// Inject adds fault entries live (POST /_awsemu/faults; Reset clears them). Each fault is a
// Fault, Throttle or Consistency, raw JSON ([]byte, json.RawMessage or string: one entry or a
// list, as README's "Injected faults" writes them), or any value that marshals to an entry.
// The server parses every entry first: when one is invalid, none of them is added.
func (s *Server) Inject(faults ...interface{}) error {
	var entries []json.RawMessage
	for _, f := range faults {
		raw, err := faultJSON(f)
		if err != nil {
			return err
		}
		entries = append(entries, raw)
	}
	var body []byte
	if len(entries) == 1 {
		body = entries[0]
	} else {
		var err error
		if body, err = json.Marshal(entries); err != nil {
			return err
		}
	}
	_, err := s.Admin(http.MethodPost, "faults", body)
	return err
}

func faultJSON(f interface{}) (json.RawMessage, error) {
	var raw []byte
	switch v := f.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default:
		return json.Marshal(f)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("fault is not valid JSON: %s", raw)
	}
	return raw, nil
}

// ClearFaults removes the live faults (DELETE /_awsemu/faults).
func (s *Server) ClearFaults() error {
	_, err := s.Admin(http.MethodDelete, "faults", nil)
	return err
}

// Faults answers GET /_awsemu/faults: the entries with their counts (seen, fired, remaining),
// the throttle buckets' levels and what consistency faults hide.
func (s *Server) Faults() (*FaultListing, error) {
	body, err := s.Admin(http.MethodGet, "faults", nil)
	if err != nil {
		return nil, err
	}
	var l FaultListing
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("GET /_awsemu/faults: %v", err)
	}
	l.Raw = body
	return &l, nil
}
