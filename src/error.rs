//! The one error type of every tool, and the exit code each kind of failure maps to.

use std::fmt;
use std::io;

/// Exit code: everything went well (a closed downstream pipe counts as well).
pub const EXIT_OK: u8 = 0;
/// Exit code: some input data was rejected.
pub const EXIT_DATA: u8 = 1;
/// Exit code: bad usage or configuration (including a missing input file).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the server or the network failed.
pub const EXIT_SERVER: u8 = 3;

/// A failure that ends a tool. The message never carries the tool's name: `cli::main` adds it.
#[derive(Debug)]
pub enum Error {
    /// Bad input data (exit 1). The message starts with `FILE:LINE:COL: ` where that is known.
    Data(String),
    /// Bad usage or configuration, or an input that cannot be opened (exit 2).
    Usage(String),
    /// The server or the network failed (exit 3).
    Server(String),
    /// Writing the output failed. A closed pipe (`BrokenPipe`) ends the tool quietly with 0.
    Io(io::Error),
    /// Everything was already said on stderr; exit with this code.
    Exit(u8),
}

impl Error {
    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Data(_) => EXIT_DATA,
            Error::Usage(_) => EXIT_USAGE,
            Error::Server(_) => EXIT_SERVER,
            Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
            Error::Io(_) => EXIT_USAGE,
            Error::Exit(code) => *code,
        }
    }

    /// True when this error is the quiet end of a closed downstream pipe.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Data(m) | Error::Usage(m) | Error::Server(m) => f.write_str(m),
            Error::Io(e) => write!(f, "cannot write output: {e}"),
            Error::Exit(code) => write!(f, "exit {code}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
