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

/// Prints the coverage table (exit 2 when the cases cannot be read).
pub fn coverage(format: Format, cases: Option<&std::path::Path>) -> u8 {
    use jobconform::report::coverage;
    let loaded = match jobconform::runner::cases::chosen(cases) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jobconform: failed to {e}");
            return 2;
        }
    };
    let rows = coverage::table(&loaded);
    emit(match format {
        Format::Json => json(&rows),
        Format::Markdown => coverage::markdown(&rows),
        Format::Table => {
            let mut s = format!(
                "{:<24} {:<6} {:<4} {:<12} {}\n",
                "RULE", "LEVEL", "MOCK", "LIVE FROM", "WHY NOT (OR ONLY IN PART)"
            );
            for r in &rows {
                let live = match r.live {
                    Some(coverage::Tier::ReadOnly) => "read-only",
                    Some(coverage::Tier::Mutations) => "mutations",
                    Some(coverage::Tier::FailingCall) => "failing-call",
                    None => "-",
                };
                s.push_str(&format!(
                    "{:<24} {:<6} {:<4} {:<12} {}\n",
                    r.id,
                    r.level.as_str(),
                    if r.mock { "yes" } else { "no" },
                    live,
                    r.why_not.unwrap_or("")
                ));
            }
            s
        }
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
