// Package sdktest drives the awsemu package's servers with the AWS SDK for Go v2, the SDK the
// Kubernetes cloud provider and the EBS CSI driver use. It is a module of its own so that the
// awsemu module stays free of requirements.
package sdktest
