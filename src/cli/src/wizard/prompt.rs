//! Questions on a terminal, in the CloudWatch agent wizard's format:
//!
//! ```text
//! Do you want to turn on StatsD daemon?
//! 1. yes
//! 2. no
//! default choice: [1]:
//! ```
//!
//! An empty line takes the default. An answer that is not valid prints
//! `The value X is not valid to this question.` (with the reason, for free-text answers) and
//! `Please retry to answer:`, then asks again. End of input before an answer is an error
//! ([`PromptError::InputClosed`]), never an endless loop.
//!
//! The prompter works on any `BufRead` / `Write` pair, so unit tests drive it with byte
//! strings and the binary with stdin / stdout.

use std::io::{BufRead, Write};

/// A question could not be asked or answered.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("the input ended before the question \"{0}\" was answered")]
    InputClosed(String),
    #[error("terminal I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Asks questions on `input` / `output`.
pub struct Prompter<R, W> {
    input: R,
    output: W,
}

impl<R: BufRead, W: Write> Prompter<R, W> {
    pub fn new(input: R, output: W) -> Self {
        Prompter { input, output }
    }

    /// Prints a line of information.
    pub fn say(&mut self, text: &str) -> Result<(), PromptError> {
        writeln!(self.output, "{text}")?;
        self.output.flush()?;
        Ok(())
    }

    fn read_answer(&mut self, question: &str) -> Result<String, PromptError> {
        self.output.flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            return Err(PromptError::InputClosed(question.to_string()));
        }
        Ok(line.trim().to_string())
    }

    fn retry(&mut self, answer: &str, reason: Option<&str>) -> Result<(), PromptError> {
        match reason {
            Some(r) => writeln!(
                self.output,
                "The value {answer} is not valid to this question: {r}"
            )?,
            None => writeln!(
                self.output,
                "The value {answer} is not valid to this question."
            )?,
        }
        writeln!(self.output, "Please retry to answer:")?;
        Ok(())
    }

    /// A numbered choice; returns the 0-based index of the option. `default` is 0-based.
    pub fn choice(
        &mut self,
        question: &str,
        options: &[&str],
        default: usize,
    ) -> Result<usize, PromptError> {
        loop {
            writeln!(self.output, "{question}")?;
            for (i, o) in options.iter().enumerate() {
                writeln!(self.output, "{}. {o}", i + 1)?;
            }
            writeln!(self.output, "default choice: [{}]:", default + 1)?;
            let answer = self.read_answer(question)?;
            if answer.is_empty() {
                return Ok(default);
            }
            match answer.parse::<usize>() {
                Ok(n) if (1..=options.len()).contains(&n) => return Ok(n - 1),
                _ => self.retry(&answer, None)?,
            }
        }
    }

    /// yes / no with the given default.
    pub fn yes_no(&mut self, question: &str, default_yes: bool) -> Result<bool, PromptError> {
        let default = if default_yes { 0 } else { 1 };
        Ok(self.choice(question, &["yes", "no"], default)? == 0)
    }

    /// Free text with a default (shown as `default choice: [VALUE]`); `check` turns the answer
    /// into the stored value or says why it is not valid.
    pub fn ask_with_default<T>(
        &mut self,
        question: &str,
        default: &str,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, PromptError> {
        loop {
            writeln!(self.output, "{question}")?;
            writeln!(self.output, "default choice: [{default}]")?;
            let answer = self.read_answer(question)?;
            let answer = if answer.is_empty() {
                default.to_string()
            } else {
                answer
            };
            match check(&answer) {
                Ok(v) => return Ok(v),
                Err(reason) => self.retry(&answer, Some(&reason))?,
            }
        }
    }

    /// Free text without a default: an empty answer is asked again.
    pub fn ask<T>(
        &mut self,
        question: &str,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, PromptError> {
        loop {
            writeln!(self.output, "{question}")?;
            let answer = self.read_answer(question)?;
            if answer.is_empty() {
                writeln!(self.output, "An answer is required.")?;
                writeln!(self.output, "Please retry to answer:")?;
                continue;
            }
            match check(&answer) {
                Ok(v) => return Ok(v),
                Err(reason) => self.retry(&answer, Some(&reason))?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(input: &str, f: impl FnOnce(&mut Prompter<&[u8], &mut Vec<u8>>) -> T) -> (T, String) {
        let mut out = Vec::new();
        let mut p = Prompter::new(input.as_bytes(), &mut out);
        let v = f(&mut p);
        (v, String::from_utf8(out).unwrap())
    }

    #[test]
    fn choice_takes_default_on_empty_line() {
        let (v, out) = run("\n", |p| p.choice("Pick?", &["a", "b"], 1).unwrap());
        assert_eq!(v, 1);
        assert_eq!(out, "Pick?\n1. a\n2. b\ndefault choice: [2]:\n");
    }

    #[test]
    fn invalid_choice_is_asked_again() {
        let (v, out) = run("7\nx\n1\n", |p| p.yes_no("Ok?", false).unwrap());
        assert!(v);
        assert_eq!(out.matches("Ok?").count(), 3);
        assert!(out.contains("The value 7 is not valid to this question.\nPlease retry to answer:"));
        assert!(out.contains("The value x is not valid to this question."));
    }

    #[test]
    fn ask_with_default_checks_the_answer() {
        let port = |s: &str| {
            s.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| "a port is a number from 1 to 65535".to_string())
        };
        let (v, out) = run("99999\n\n", |p| {
            p.ask_with_default("Port?", "8125", port).unwrap()
        });
        assert_eq!(v, 8125);
        assert!(out.contains(
            "The value 99999 is not valid to this question: a port is a number from 1 to 65535"
        ));
    }

    #[test]
    fn ask_requires_an_answer_and_end_of_input_is_an_error() {
        let (v, _) = run("\n/var/log/x\n", |p| {
            p.ask("Path:", |s| Ok::<_, String>(s.to_string()))
        });
        assert_eq!(v.unwrap(), "/var/log/x");
        let (v, _) = run("", |p| p.ask("Path:", |s| Ok::<_, String>(s.to_string())));
        assert!(matches!(v, Err(PromptError::InputClosed(q)) if q == "Path:"));
    }
}
