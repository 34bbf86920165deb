package awsemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Credentials are keys to sign requests with. SessionToken and Expires are set for role sessions.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time
}

// Credentials answers keys for a principal or role:
//   - "" or "admin": the admin user (allowed everything);
//   - a principal of the start-up table: "controlplane", "etcd" and "worker" (sessions of the
//     roles of those names, held to the policies Rancher documents), or a --config principal;
//   - any other name (or a role ARN): a fresh session of that IAM role from STS AssumeRole,
//     signed with the admin keys. A role created through IAM must trust the account
//     ("arn:aws:iam::ACCOUNT:root") or the admin user for this to succeed.
func (s *Server) Credentials(role string) (Credentials, error) {
	if role == "" {
		role = "admin"
	}
	if c, ok := s.keys[role]; ok {
		return c, nil
	}
	return s.AssumeRole(role, "awsemu-go")
}

// Principals are the names of the start-up table, those Credentials answers without STS.
func (s *Server) Principals() []string {
	names := make([]string, 0, len(s.keys))
	for n := range s.keys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AssumeRole answers a session of role (a name in the server's account, or an ARN) called
// session, from STS AssumeRole signed with the admin keys.
func (s *Server) AssumeRole(role, session string) (Credentials, error) {
	admin, ok := s.keys["admin"]
	if !ok {
		return Credentials{}, fmt.Errorf("no principal %q, and no admin keys to assume a role with", role)
	}
	arn := role
	if !strings.HasPrefix(arn, "arn:") {
		arn = "arn:aws:iam::" + s.accountID + ":role/" + role
	}
	form := url.Values{
		"Action":          {"AssumeRole"},
		"Version":         {"2011-06-15"},
		"RoleArn":         {arn},
		"RoleSessionName": {session},
	}
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, s.endpoint+"/", strings.NewReader(body))
	if err != nil {
		return Credentials{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sign(req, []byte(body), admin, s.region, "sts", time.Now().UTC())
	resp, err := s.http.Do(req)
	if err != nil {
		return Credentials{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return Credentials{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		if xml.Unmarshal(out, &e) == nil && e.Code != "" {
			return Credentials{}, fmt.Errorf("sts:AssumeRole %s: %s: %s", arn, e.Code, e.Message)
		}
		return Credentials{}, fmt.Errorf("sts:AssumeRole %s: %s: %s", arn, resp.Status, out)
	}
	var got struct {
		AccessKeyID     string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
		SecretAccessKey string `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
		SessionToken    string `xml:"AssumeRoleResult>Credentials>SessionToken"`
		Expiration      string `xml:"AssumeRoleResult>Credentials>Expiration"`
	}
	if err := xml.Unmarshal(out, &got); err != nil || got.AccessKeyID == "" {
		return Credentials{}, fmt.Errorf("sts:AssumeRole %s: unexpected answer: %s", arn, out)
	}
	c := Credentials{AccessKeyID: got.AccessKeyID, SecretAccessKey: got.SecretAccessKey, SessionToken: got.SessionToken}
	if t, err := time.Parse(time.RFC3339, got.Expiration); err == nil {
		c.Expires = t
	}
	return c, nil
}

// Env is the environment a process (an AWS CLI, a controller binary) needs to reach this
// server as role: AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION and the keys.
func (s *Server) Env(role string) ([]string, error) {
	c, err := s.Credentials(role)
	if err != nil {
		return nil, err
	}
	env := []string{
		"AWS_ENDPOINT_URL=" + s.endpoint,
		"AWS_REGION=" + s.region,
		"AWS_DEFAULT_REGION=" + s.region,
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
	}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	return env, nil
}

// sign adds a SigV4 Authorization header (signed headers: content-type, host, x-amz-date) to a
// request whose path is "/" with no query, which is all AssumeRole needs.
func sign(req *http.Request, body []byte, c Credentials, region, service string, now time.Time) {
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	if c.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", c.SessionToken)
	}
	signed := "content-type;host;x-amz-date"
	canonical := strings.Join([]string{
		req.Method,
		"/",
		"",
		"content-type:" + req.Header.Get("Content-Type"),
		"host:" + req.URL.Host,
		"x-amz-date:" + amzDate,
		"",
		signed,
		hexSHA256(body),
	}, "\n")
	scope := day + "/" + region + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	key := hmacSHA256([]byte("AWS4"+c.SecretAccessKey), day)
	for _, part := range []string{region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

func hexSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
