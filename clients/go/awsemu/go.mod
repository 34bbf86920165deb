module github.com/awsemu/awsemu/clients/go/awsemu

go 1.18
