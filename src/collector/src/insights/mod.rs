//! CloudWatch Logs Insights: the query language and its execution over stored log events.
//!
//! One file per concern: [`lexer`] (tokens with positions), [`parser`] (recursive descent to
//! the [`ast`]), [`value`] (loose typing, comparison, rendering), [`functions`] (scalar
//! functions), [`row`] (built-in and discovered fields of an event), [`eval`] (expressions),
//! [`stats`] (aggregation), [`exec`] (the pipeline). The operations that start and read queries
//! live in `api::logs::queries`; the store scan in `store::logs::scan`.
//!
//! The language follows the AWS query syntax reference: `fields`, `display`, `filter`,
//! `stats`, `sort`, `limit`, `parse`, `dedup`, `unmask`, `#` comments, backticked names,
//! case-insensitive keywords. Syntax errors are [`QueryError`]s (answered as
//! `MalformedQueryException`) worded `unexpected symbol found X at line L and position P`.
//! Regexes use Rust `regex` syntax (AWS uses Hyperscan; the common subset, including
//! `(?<name>...)` groups and `(?i)`, is the same).

pub mod ast;
pub mod error;
pub mod eval;
pub mod exec;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod row;
pub mod stats;
pub mod value;

#[cfg(test)]
mod tests;

pub use ast::Query;
pub use error::QueryError;
pub use exec::{Executor, Output, ResultRow, Statistics};
pub use parser::parse;
pub use row::Event;
