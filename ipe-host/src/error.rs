//! The one error type of the host library.

use std::fmt;
use std::path::PathBuf;

use ipe_nostd::BundleError;

/// Why loading a bundle or evaluating a request failed.
///
/// A small struct boxing an [`ErrorKind`], so `Result<T, Error>` stays one pointer wide.
#[derive(Debug)]
pub struct Error {
    kind: Box<ErrorKind>,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bundle file could not be read or mapped.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A request stream could not be read.
    Read(std::io::Error),
    /// The bytes are not a valid bundle (header, checksum, body or verification).
    Format(BundleError),
    /// A request could not be turned into a context.
    Request(RequestError),
    /// `reload` was called on an engine that was not loaded from a file.
    NoSource,
    /// A signed bundle was refused, or a signature was required and missing (issue #18).
    Signature(ipe_nostd::signed::SignatureError),
    /// The bundle path names something other than a regular file (a FIFO, a device, a
    /// directory, a socket), which is never read (issue #15).
    NotAFile {
        /// The path.
        path: PathBuf,
    },
}

/// Why a request was rejected before evaluation.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// The request text is not JSON.
    Json(serde_json::Error),
    /// The request is JSON but not an object.
    NotAnObject,
    /// An object in the request has the same key twice (the error names it and its place).
    DuplicateKey(serde_json::Error),
    /// A typed request set the same attribute (or record field) twice.
    DuplicatePath(String),
    /// A line of a request stream is not UTF-8 (the 1-based column of its first bad byte).
    InvalidUtf8 {
        /// Where the first byte that is not UTF-8 is.
        column: usize,
    },
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Consumes the error, returning its kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.kind
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        ErrorKind::Io {
            path: path.to_owned(),
            source,
        }
        .into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error {
            kind: Box::new(kind),
        }
    }
}

impl From<BundleError> for Error {
    fn from(e: BundleError) -> Self {
        ErrorKind::Format(e).into()
    }
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Self {
        ErrorKind::Request(e).into()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.kind {
            ErrorKind::Io { path, source } => {
                write!(f, "cannot read bundle `{}`: {source}", path.display())
            }
            ErrorKind::Read(e) => write!(f, "cannot read requests: {e}"),
            ErrorKind::Format(e) => e.fmt(f),
            ErrorKind::Request(e) => e.fmt(f),
            ErrorKind::NoSource => f.write_str("the engine was not loaded from a file"),
            ErrorKind::Signature(e) => e.fmt(f),
            ErrorKind::NotAFile { path } => {
                write!(
                    f,
                    "cannot read bundle `{}`: not a regular file",
                    path.display()
                )
            }
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Json(e) => write!(f, "malformed request: {e}"),
            RequestError::NotAnObject => f.write_str("malformed request: expected a JSON object"),
            RequestError::DuplicateKey(e) => write!(f, "malformed request: {e}"),
            RequestError::InvalidUtf8 { column } => {
                write!(f, "malformed request: invalid UTF-8 at column {column}")
            }
            RequestError::DuplicatePath(p) => {
                write!(f, "malformed request: attribute `{p}` is set twice")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.kind {
            ErrorKind::Io { source, .. } | ErrorKind::Read(source) => Some(source),
            ErrorKind::Format(e) => Some(e),
            ErrorKind::Signature(e) => Some(e),
            ErrorKind::Request(RequestError::Json(e) | RequestError::DuplicateKey(e)) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for RequestError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<(), Error>>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn messages_name_the_cause() {
        let e = Error::from(BundleError::BadMagic);
        assert!(matches!(e.kind(), ErrorKind::Format(BundleError::BadMagic)));
        assert_eq!(e.to_string(), "not an IPE bundle (bad magic)");
        let e = Error::from(RequestError::NotAnObject);
        assert_eq!(e.to_string(), "malformed request: expected a JSON object");
    }
}
