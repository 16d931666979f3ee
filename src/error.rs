//! Errors for bad input: a field path and a problem a person can act on.
//!
//! Bad input is never an assertion: the engine returns `InputError` and keeps its state.

use std::fmt;

/// A problem with user input, located by a field path such as `faults[2].fault.node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// Where the problem is, as a path into the input (empty for the whole input).
    pub field: String,
    /// What is wrong, phrased so the user knows what to change.
    pub problem: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The same problem, located under a parent field (`parent.field`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = match (parent.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => parent.to_string(),
            (false, false) if self.field.starts_with('[') => format!("{parent}{}", self.field),
            (false, false) => format!("{parent}.{}", self.field),
        };
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

impl std::error::Error for InputError {}

/// Reads JSON text into `T`, naming the field of the first error. Every scenario type is
/// read through this one function, so each type's deserializer is compiled once (a second
/// reader, such as `serde_json::from_value`, would instantiate them all again in the wasm
/// module).
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, InputError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        InputError::new(field, e.inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_builds_paths() {
        let e = InputError::new("node", "no such node")
            .within("fault")
            .within("faults[2]");
        assert_eq!(e.to_string(), "faults[2].fault.node: no such node");
        let e = InputError::new("[1]", "bad").within("groups");
        assert_eq!(e.field, "groups[1]");
    }
}
