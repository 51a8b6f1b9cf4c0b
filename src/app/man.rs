//! `vigil man`: man pages generated from the help texts, one per command.

use crate::cli::ManArgs;
use crate::error::{Error, Result, Status};

/// Every command with its page name: `vigil`, `vigil-run`,
/// `vigil-exceptions-lint`...
fn pages() -> Vec<(String, clap::Command)> {
    let mut root = <crate::cli::Cli as clap::CommandFactory>::command();
    root.build();
    let mut out = Vec::new();
    fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        out.push((prefix.to_owned(), cmd.clone()));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(&format!("{prefix}-{}", sub.get_name()), sub, out);
        }
    }
    walk("vigil", &root, &mut out);
    out
}

fn render(name: &str, cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    // The page's title is its file name; a subcommand's usage says `vigil run`.
    let cmd = cmd.name(name.to_owned()).bin_name(name.replace('-', " "));
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(buf)
}

pub fn man(args: &ManArgs) -> Result {
    let pages = pages();
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        for (name, cmd) in pages {
            let path = dir.join(format!("{name}.1"));
            let page = render(&name, cmd).map_err(|e| Error::write(&path, e))?;
            crate::atomic::write(&path, crate::atomic::Existing::Replace, |w| {
                w.write_all(&page)
            })
            .map_err(|e| Error::write(&path, e))?;
            crate::term::eprint_line(format_args!("{}", path.display()));
        }
        return Ok(Status::Passed);
    }
    let wanted = std::iter::once("vigil".to_owned())
        .chain(args.command.iter().cloned())
        .collect::<Vec<_>>()
        .join("-");
    let Some((name, cmd)) = pages.into_iter().find(|(n, _)| *n == wanted) else {
        return Err(Error::Usage(format!(
            "no command `{}`: `vigil --help` lists them",
            args.command.join(" ")
        )));
    };
    let page = render(&name, cmd).map_err(|e| Error::write("standard output", e))?;
    crate::term::write_raw_stdout(&page).map_err(|e| super::printed(Err(e)).unwrap_err())?;
    Ok(Status::Passed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_has_a_page_with_its_options() {
        let pages = super::pages();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for want in [
            "vigil",
            "vigil-run",
            "vigil-watch",
            "vigil-exceptions-lint",
            "vigil-report",
        ] {
            assert!(names.contains(&want), "{names:?}");
        }
        let (name, run) = pages.into_iter().find(|(n, _)| n == "vigil-run").unwrap();
        let page = String::from_utf8(super::render(&name, run).unwrap()).unwrap();
        assert!(
            page.contains("\\-\\-namespace") && page.contains("128+N"),
            "{page}"
        );
    }
}
