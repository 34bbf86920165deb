// Package awsemu starts an isolated awsemu server for Go tests: one `awsemu serve` process per
// Server, on a free loopback port, with its own state, so tests never share a world.
//
//	func TestVolumes(t *testing.T) {
//		srv := awsemu.Start(t, awsemu.WithSeed(7)) // stopped by t.Cleanup
//		creds, err := srv.Credentials("controlplane")
//		...
//		client := ec2.New(ec2.Options{
//			Region:           srv.Region(),
//			Credentials:      credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
//			EndpointResolver: ec2.EndpointResolverFromURL(srv.Endpoint()), // newer SDKs: BaseEndpoint
//		})
//	}
//
// The package uses only the standard library, so it adds no requirement to a module that
// imports it; any AWS SDK (or none) can talk to the endpoint.
//
// The binary is, in this order: WithBinary's path, $AWSEMU_BIN, `awsemu` on $PATH, or — when the
// working directory is inside the awsemu repository — target/debug/awsemu, built with
// `cargo build -p awsemu` first (once per test process; a no-op when it is up to date).
//
// Credentials(role) answers the keys the server prints at start (admin, controlplane, etcd,
// worker and any principal of a --config file) and, for any other role, a session of it from
// STS AssumeRole signed with the admin keys (so a role created through IAM must trust the
// account or the admin user).
//
// Not here yet: Snapshot and Restore, because awsemu has no snapshot endpoint; Reset is the way
// back to the start-up world.
package awsemu
