//! The one error type every layer returns, with constructors for the shapes AWS uses again and again.
//!
//! An `AwsError` knows nothing about envelopes: `protocol::render` writes it as EC2 XML, awsQuery XML or
//! awsJson1_1 for the service that was called, so a handler never has to care which wire it is on.

use std::borrow::Cow;
use std::fmt;

/// Who is at fault, as the awsQuery envelope's `<Type>` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

/// An AWS error answer: the code clients switch on, the message people read, and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: Cow<'static, str>,
    pub message: String,
    pub status: u16,
}

impl AwsError {
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
        status: u16,
    ) -> Self {
        AwsError {
            code: code.into(),
            message: message.into(),
            status,
        }
    }

    /// A 400 with the given code: by far the most common shape of AWS error.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(code, message, 400)
    }

    pub fn fault(&self) -> Fault {
        if self.status >= 500 {
            Fault::Receiver
        } else {
            Fault::Sender
        }
    }

    /// `InvalidParameterValue`, the code EC2 and the query APIs use for a value of the wrong form.
    pub fn invalid_value(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidParameterValue", message)
    }

    /// `InvalidParameterCombination`: parameters that are fine alone but not together.
    pub fn invalid_combination(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidParameterCombination", message)
    }

    /// `<Type>.NotFound` with AWS's sentence, e.g. `InvalidVolume.NotFound` "The volume 'vol-1' does not exist."
    pub fn not_found(code: &'static str, noun: &str, id: &str) -> Self {
        Self::bad_request(code, format!("The {noun} '{id}' does not exist."))
    }

    /// `<Type>.Malformed` for an id that cannot be one, e.g. `InvalidInstanceID.Malformed`.
    pub fn malformed_id(code: &'static str, id: &str) -> Self {
        Self::bad_request(code, format!("Invalid id: \"{id}\""))
    }

    /// `DependencyViolation`: the resource is still used by another.
    pub fn dependency_violation(message: impl Into<String>) -> Self {
        Self::bad_request("DependencyViolation", message)
    }

    /// The action name is not one the service has.
    pub fn invalid_action(action: &str) -> Self {
        Self::bad_request(
            "InvalidAction",
            format!("The action {action} is not valid for this web service."),
        )
    }

    /// A real AWS action that awsemu does not emulate (yet). Answered honestly rather than faked.
    pub fn not_emulated(service: &str, action: &str) -> Self {
        Self::new(
            "NotImplemented",
            format!("awsemu does not emulate {service}:{action}"),
            501,
        )
    }

    /// A handler panicked: the server answers this and keeps serving.
    pub fn internal() -> Self {
        Self::new(
            "InternalError",
            "An internal error has occurred. Please try your request again.",
            500,
        )
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}

pub type AwsResult<T> = Result<T, AwsError>;
