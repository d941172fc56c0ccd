//! `--output display|json|json-compact`: one rendering for every command.

use std::fmt::Display;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Display,
    /// Pretty-printed JSON.
    Json,
    /// One line of JSON.
    JsonCompact,
}

/// `value` in `format`, ending with a newline.
pub fn render<T: Serialize + Display>(value: &T, format: OutputFormat) -> Result<String, serde_json::Error> {
    Ok(match format {
        OutputFormat::Display => format!("{value}\n"),
        OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(value)?),
        OutputFormat::JsonCompact => format!("{}\n", serde_json::to_string(value)?),
    })
}

/// `label: value` lines with the values aligned, for `Display`.
pub(crate) struct Fields<'a, 'b> {
    pub f: &'a mut std::fmt::Formatter<'b>,
}

impl Fields<'_, '_> {
    pub fn field(&mut self, label: &str, value: impl Display) -> std::fmt::Result {
        writeln!(self.f, "{:<22} {value}", format!("{label}:"))
    }
}
