module github.com/awsemu/awsemu/clients/go/awsemu/sdktest

go 1.18

// The versions Debian 12 packages (golang-github-aws-aws-sdk-go-v2-dev 1.17.1), which CI builds
// against in GOPATH mode; with a module proxy, `go mod tidy` fills in go.sum.
require (
	github.com/awsemu/awsemu/clients/go/awsemu v0.0.0
	github.com/aws/aws-sdk-go-v2 v1.17.1
	github.com/aws/aws-sdk-go-v2/credentials v1.12.23
	github.com/aws/aws-sdk-go-v2/service/ec2 v1.63.3
	github.com/aws/aws-sdk-go-v2/service/iam v1.18.22
	github.com/aws/aws-sdk-go-v2/service/sts v1.17.1
	github.com/aws/smithy-go v1.13.4
)

replace github.com/awsemu/awsemu/clients/go/awsemu => ../
