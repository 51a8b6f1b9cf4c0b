//! `vigil checks`: every check, its rule and its defaults.

use std::io::Write;

use crate::checks;
use crate::cli::{ChecksArgs, Format};
use crate::error::{Result, Status};

pub fn list(args: &ChecksArgs) -> Result {
    let mut out = crate::term::stdout();
    let written = match args.output {
        Format::Json => {
            let list: Vec<_> = checks::ALL
                .iter()
                .map(|c| {
                    let i = c.info();
                    serde_json::json!({
                        "id": i.id,
                        "monitor": i.monitor,
                        "default_mode": i.default_mode,
                        "default_lifecycle": i.default_lifecycle,
                        "multi_node": i.multi_node,
                        "kinds": i.kinds,
                        "test_name": i.test_name_pattern(),
                        "rule": i.rule,
                        "thresholds": i.thresholds.iter().map(|t| serde_json::json!({"name": t.name, "default": t.default, "help": t.help})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            crate::term::write_json(&mut out, &list)
        }
        Format::Text => write_checks_text(&mut out),
    };
    super::printed(written.and_then(|()| out.flush()))?;
    Ok(Status::Passed)
}

fn write_checks_text(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Defaults; policy.yaml changes them per check. mode: blocking (an unexcepted violation fails) or\n\
         flake-only (every violation flakes, while a new check rolls out). lifecycle: blocking, or\n\
         informing (failures stay failures, marked lifecycle=\"informing\" for Sippy, and never\n\
         change vigil's exit status).\n"
    )?;
    let bold = anstyle::Style::new().bold();
    let dim = anstyle::Style::new().dimmed();
    for c in checks::ALL {
        let i = c.info();
        let single = if i.multi_node {
            " · skipped on single-node clusters"
        } else {
            ""
        };
        writeln!(
            out,
            "{bold}{}{bold:#}  {dim}[{}] mode {} · lifecycle {}{single}{dim:#}",
            i.id,
            i.monitor.as_str(),
            i.default_mode,
            i.default_lifecycle
        )?;
        writeln!(out, "    {}", i.test_name_pattern())?;
        writeln!(out, "    {}", i.rule)?;
        for t in i.thresholds {
            writeln!(out, "    threshold {} = {} ({})", t.name, t.default, t.help)?;
        }
    }
    Ok(())
}
