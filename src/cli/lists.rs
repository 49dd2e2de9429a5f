//! `jobconform rules` and `jobconform deviations`: the registries, as a table or JSON.

use std::io::Write;

use super::Format;
use jobconform::contract;
use jobconform::mock::deviation;

fn emit(text: String) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => 0,
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("jobconform: failed to write to stdout: {e}");
            2
        }
    }
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| "[]".into()) + "\n"
}

/// Prints the rules (and the ambiguity register).
pub fn rules(format: Format) -> u8 {
    emit(match format {
        Format::Json => json(&contract::to_json()),
        Format::Table => contract::render_table(),
        Format::Markdown => contract::render_markdown(),
    })
}

/// Prints the deviations.
pub fn deviations(format: Format) -> u8 {
    let all = deviation::ALL;
    emit(match format {
        Format::Json => json(&all),
        Format::Markdown => deviation::markdown_table(),
        Format::Table => {
            let w = all.iter().map(|d| d.name.len()).max().unwrap_or(4);
            let rw = all
                .iter()
                .map(|d| d.rules.join(",").len())
                .max()
                .unwrap_or(5);
            let mut s = String::new();
            for d in all {
                s.push_str(&format!(
                    "{:w$}  {:rw$}  {}\n",
                    d.name,
                    d.rules.join(","),
                    d.does
                ));
            }
            s
        }
    })
}
