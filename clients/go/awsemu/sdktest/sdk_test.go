package sdktest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsemu/awsemu/clients/go/awsemu"
)

var ctx = context.Background()

func creds(t *testing.T, srv *awsemu.Server, role string) aws.CredentialsProvider {
	t.Helper()
	c, err := srv.Credentials(role)
	if err != nil {
		t.Fatal(err)
	}
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// ec2Client is an EC2 client of role on srv, as the cloud provider builds one, with no wait
// between retries (the retry count and decisions stay the SDK's).
func ec2Client(t *testing.T, srv *awsemu.Server, role string, optFns ...func(*ec2.Options)) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:           srv.Region(),
		Credentials:      creds(t, srv, role),
		EndpointResolver: ec2.EndpointResolverFromURL(srv.Endpoint()),
		Retryer:          noWait(retry.DefaultMaxAttempts),
	}, optFns...)
}

func noWait(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

// apiError is err's AWS error code, message and HTTP status.
func apiError(t *testing.T, err error) (code, message string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an AWS API error: %v", err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), ae.ErrorMessage(), status
}

func createVolume(c *ec2.Client) (*ec2.CreateVolumeOutput, error) {
	return c.CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String("us-east-1a"),
		Size:             aws.Int32(10),
		VolumeType:       ec2types.VolumeTypeGp3,
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeVolume,
			Tags:         []ec2types.Tag{{Key: aws.String("kubernetes.io/cluster/demo"), Value: aws.String("owned")}},
		}},
	})
}

func TestCreateDescribeAndResetAVolume(t *testing.T) {
	srv := awsemu.Start(t, awsemu.WithSeed(7))
	c := ec2Client(t, srv, "")
	out, err := createVolume(c)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.VolumeId)
	if !strings.HasPrefix(id, "vol-") || out.State != ec2types.VolumeStateCreating {
		t.Fatalf("created %s in state %s", id, out.State)
	}
	// The SDK's own waiter, as the CSI driver waits: the next observation sees it available.
	if err := ec2.NewVolumeAvailableWaiter(c).Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{
		Name: aws.String("tag:kubernetes.io/cluster/demo"), Values: []string{"owned"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Volumes) != 1 || aws.ToString(desc.Volumes[0].VolumeId) != id || aws.ToInt32(desc.Volumes[0].Size) != 10 ||
		desc.Volumes[0].State != ec2types.VolumeStateAvailable || aws.ToString(desc.Volumes[0].AvailabilityZone) != "us-east-1a" {
		t.Fatalf("described %+v", desc.Volumes)
	}

	if err := srv.Reset(); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if code, msg, status := apiError(t, err); code != "InvalidVolume.NotFound" || status != http.StatusBadRequest || !strings.Contains(msg, id) {
		t.Fatalf("after reset: %s %d %s", code, status, msg)
	}
	all, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if err != nil || len(all.Volumes) != 0 {
		t.Fatalf("after reset: %v %v", all, err)
	}
}

func TestWorkerIsDeniedCreateVolumeAndControlplaneIsAllowed(t *testing.T) {
	srv := awsemu.Start(t) // --iam enforce, the default
	_, err := createVolume(ec2Client(t, srv, "worker"))
	code, msg, status := apiError(t, err)
	if code != "UnauthorizedOperation" || status != http.StatusForbidden ||
		!strings.Contains(msg, "assumed-role/worker/awsemu is not authorized to perform: ec2:CreateVolume") {
		t.Fatalf("worker: %s %d %s", code, status, msg)
	}
	// What the worker policy does allow.
	if _, err := ec2Client(t, srv, "worker").DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("worker DescribeInstances: %v", err)
	}
	if _, err := createVolume(ec2Client(t, srv, "controlplane")); err != nil {
		t.Fatalf("controlplane: %v", err)
	}
}

func TestACreatedRoleGetsASessionHeldToItsPolicy(t *testing.T) {
	srv := awsemu.Start(t)
	admin := iam.New(iam.Options{
		Region:           srv.Region(),
		Credentials:      creds(t, srv, ""),
		EndpointResolver: iam.EndpointResolverFromURL(srv.Endpoint()),
	})
	trust := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
		"Principal": {"AWS": "arn:aws:iam::` + srv.AccountID() + `:root"}, "Action": "sts:AssumeRole"}]}`
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ebs-csi"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
		"Action": ["ec2:CreateVolume", "ec2:CreateTags", "ec2:DescribeVolumes"], "Resource": "*"}]}`
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ebs-csi"), PolicyName: aws.String("volumes"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}

	who, err := sts.New(sts.Options{
		Region:           srv.Region(),
		Credentials:      creds(t, srv, "ebs-csi"),
		EndpointResolver: sts.EndpointResolverFromURL(srv.Endpoint()),
	}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::123456789012:assumed-role/ebs-csi/awsemu-go" {
		t.Fatalf("GetCallerIdentity: %v %v", who, err)
	}
	c := ec2Client(t, srv, "ebs-csi")
	out, err := createVolume(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: out.VolumeId})
	if code, msg, _ := apiError(t, err); code != "UnauthorizedOperation" || !strings.Contains(msg, "ec2:DeleteVolume") {
		t.Fatalf("DeleteVolume: %s %s", code, msg)
	}
}

func TestAnInjectedFaultFailsTheCallAsItSays(t *testing.T) {
	srv := awsemu.Start(t)
	once := ec2Client(t, srv, "controlplane", func(o *ec2.Options) { o.Retryer = noWait(1) })
	err := srv.Inject(awsemu.Fault{
		Action: "ec2:CreateVolume", Principal: "controlplane", Times: 1,
		Error: &awsemu.FaultError{Code: "InsufficientVolumeCapacity", Message: "no gp3 capacity in us-east-1a", Status: 503},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The admin is not the fault's principal.
	if _, err := createVolume(ec2Client(t, srv, "")); err != nil {
		t.Fatalf("admin: %v", err)
	}
	_, err = createVolume(once)
	if code, msg, status := apiError(t, err); code != "InsufficientVolumeCapacity" || msg != "no gp3 capacity in us-east-1a" || status != 503 {
		t.Fatalf("faulted call: %s %d %s", code, status, msg)
	}
	if _, err := createVolume(once); err != nil {
		t.Fatalf("the fault fired more than once: %v", err)
	}
	// A faulted call changes nothing: the admin's volume and the controlplane's second one.
	all, err := once.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if err != nil || len(all.Volumes) != 2 {
		t.Fatalf("volumes: %v %v", all, err)
	}

	// The SDK retries a throttled call: two throttles are absorbed, five are not.
	retrying := ec2Client(t, srv, "controlplane")
	if err := srv.Inject(`{"action": "ec2:DescribeVolumes", "error": {"code": "RequestLimitExceeded"}, "times": 2}`); err != nil {
		t.Fatal(err)
	}
	if _, err := retrying.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{}); err != nil {
		t.Fatalf("two throttles and the SDK's retries: %v", err)
	}
	if err := srv.Inject(awsemu.Fault{Action: "ec2:DescribeVolumes", Error: &awsemu.FaultError{Code: "RequestLimitExceeded"}, Times: 5}); err != nil {
		t.Fatal(err)
	}
	_, err = retrying.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
	if code, _, status := apiError(t, err); code != "RequestLimitExceeded" || status != 503 {
		t.Fatalf("five throttles: %s %d", code, status)
	}
	// Spent rules leave the listing; the last one has fired once per attempt.
	l, err := srv.Faults()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Rules) != 1 || l.Rules[0].Fired != uint64(retry.DefaultMaxAttempts) || l.Rules[0].Remaining == nil ||
		*l.Rules[0].Remaining != 5-uint64(retry.DefaultMaxAttempts) {
		t.Fatalf("faults: %s", l.Raw)
	}
}
