//! Helpers that build aws-sdk-rust clients against an awsemu instance.
