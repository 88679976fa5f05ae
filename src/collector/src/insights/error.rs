//! Query errors: a malformed query (answered as `MalformedQueryException`) with its position.

/// A query that cannot be compiled. `start`/`end` are character offsets into the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

impl QueryError {
    /// An error at a token, worded `<what> at line L and position P` as AWS words them.
    pub fn at(line: usize, col: usize, start: usize, end: usize, what: &str) -> Self {
        QueryError {
            message: format!("{what} at line {line} and position {col}"),
            start,
            end,
        }
    }

    /// `unexpected symbol found <sym> at line L and position P`.
    pub fn unexpected(sym: &str, line: usize, col: usize, start: usize, end: usize) -> Self {
        Self::at(
            line,
            col,
            start,
            end,
            &format!("unexpected symbol found {sym}"),
        )
    }

    /// An error about the query as a whole.
    pub fn whole(message: impl Into<String>) -> Self {
        QueryError {
            message: message.into(),
            start: 0,
            end: 0,
        }
    }
}
