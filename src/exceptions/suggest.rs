//! `vigil exceptions suggest`: bootstrap exceptions for a new check.
//!
//! Every violation no exception covers becomes an entry with a `jira`
//! placeholder, appended to the file of the component that claims its
//! namespace. Files are edited as text, so nothing is reordered and no
//! comment is lost; namespaces no file claims go to a new file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::tree::{yaml_comment, yaml_scalar};
use super::Exceptions;

/// One suggested entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Suggestion {
    pub namespace: String,
    pub check: &'static str,
    pub object: String,
    /// The violations, as comments above the entry.
    pub comments: Vec<String>,
}

/// The additions for one file.
#[derive(Debug)]
pub struct FileEdit {
    pub path: PathBuf,
    /// Whether the file is created rather than appended to.
    pub new: bool,
    pub entries: Vec<Suggestion>,
    /// The whole new content of the file.
    pub content: String,
    /// Only the added text, for `--stdout`.
    pub added: String,
}

fn render(s: &Suggestion, indent: &str, jira: &str) -> String {
    let mut out = String::new();
    // The comments quote the cluster (event messages, object names): each
    // stays one comment line, whatever it holds.
    for c in s.comments.iter().take(5) {
        out.push_str(&format!("{indent}# {}\n", yaml_comment(c)));
    }
    if s.comments.len() > 5 {
        out.push_str(&format!(
            "{indent}# ... and {} more\n",
            s.comments.len() - 5
        ));
    }
    out.push_str(&format!(
        "{indent}- check: {}\n{indent}  namespace: {}\n{indent}  object: {}\n{indent}  jira: {}\n",
        s.check,
        yaml_scalar(&s.namespace),
        yaml_scalar(&s.object),
        yaml_scalar(jira),
    ));
    out
}

/// Where `exceptions:` items go in an existing file, and how they are indented.
struct Layout {
    /// Byte offset at which to insert the new items.
    insert_at: usize,
    indent: String,
    /// Text replacing `exceptions: []` (or added when the key is missing).
    header_fix: Option<(usize, usize, String)>,
}

fn layout(text: &str) -> Layout {
    let mut offset = 0;
    let mut lines = Vec::new();
    for line in text.split_inclusive('\n') {
        lines.push((offset, line));
        offset += line.len();
    }
    let end = text.len();
    let Some(idx) = lines.iter().position(|(_, l)| l.starts_with("exceptions:")) else {
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        return Layout {
            insert_at: end,
            indent: "  ".into(),
            header_fix: Some((end, end, format!("{sep}exceptions:\n"))),
        };
    };
    let (start, header) = lines[idx];
    let value = header["exceptions:".len()..]
        .split('#')
        .next()
        .unwrap_or("")
        .trim();
    if !value.is_empty() {
        // `exceptions: []` (or another flow value): make it a block list.
        let header_end = start + header.len();
        return Layout {
            insert_at: header_end,
            indent: "  ".into(),
            header_fix: Some((start, header_end, "exceptions:\n".into())),
        };
    }
    // A block list: items run until the next top-level key.
    let mut insert_at = end;
    let mut indent = None;
    for &(off, l) in &lines[idx + 1..] {
        let trimmed = l.trim_start();
        let is_top_level = !l.starts_with([' ', '\t', '#', '-', '\n', '\r']) && !trimmed.is_empty();
        if is_top_level {
            insert_at = off;
            break;
        }
        if indent.is_none() && trimmed.starts_with("- ") {
            indent = Some(l[..l.len() - trimmed.len()].to_owned());
        }
    }
    let needs_newline = insert_at == end && !text.is_empty() && !text.ends_with('\n');
    Layout {
        insert_at,
        indent: indent.unwrap_or_else(|| "  ".into()),
        header_fix: needs_newline.then(|| (end, end, "\n".into())),
    }
}

/// Appends entries to an existing file's text.
pub fn append(text: &str, entries: &[Suggestion], jira: &str) -> (String, String) {
    let l = layout(text);
    let added: String = entries.iter().map(|s| render(s, &l.indent, jira)).collect();
    let mut out = String::with_capacity(text.len() + added.len() + 16);
    match &l.header_fix {
        Some((from, to, fix)) if *from <= l.insert_at => {
            out.push_str(&text[..*from]);
            out.push_str(fix);
            let resume = (*to).max(*from);
            let insert = l.insert_at.max(resume);
            out.push_str(&text[resume..insert]);
            out.push_str(&added);
            out.push_str(&text[insert..]);
        }
        _ => {
            out.push_str(&text[..l.insert_at]);
            out.push_str(&added);
            out.push_str(&text[l.insert_at..]);
        }
    }
    (out, added)
}

/// The edits to make: per claiming file, plus one new file for unclaimed namespaces.
pub fn plan(
    ex: &Exceptions,
    dir: &Path,
    suggestions: Vec<Suggestion>,
    jira: &str,
) -> std::io::Result<Vec<FileEdit>> {
    let mut per_file: BTreeMap<PathBuf, Vec<Suggestion>> = BTreeMap::new();
    let mut unclaimed: Vec<Suggestion> = Vec::new();
    for s in suggestions {
        match ex
            .files
            .iter()
            .find(|f| f.namespaces.iter().any(|(n, _)| *n == s.namespace))
        {
            Some(f) => per_file.entry(f.path.clone()).or_default().push(s),
            None => unclaimed.push(s),
        }
    }
    let mut edits = Vec::new();
    for (path, entries) in per_file {
        let text = std::fs::read_to_string(&path)?;
        let (content, added) = append(&text, &entries, jira);
        edits.push(FileEdit {
            path,
            new: false,
            entries,
            content,
            added,
        });
    }
    if !unclaimed.is_empty() {
        let namespaces: BTreeSet<&str> = unclaimed.iter().map(|s| s.namespace.as_str()).collect();
        let header = format!(
            "# Namespaces no component file claimed when `vigil exceptions suggest` ran.\n\
             # Move each namespace, with its entries, to the file of the component that owns it.\n\
             component: TODO\nnamespaces: [{}]\nexceptions:\n",
            namespaces.into_iter().collect::<Vec<_>>().join(", ")
        );
        let added: String = unclaimed.iter().map(|s| render(s, "  ", jira)).collect();
        let path = free_name(dir, "unclaimed");
        edits.push(FileEdit {
            path,
            new: true,
            entries: unclaimed,
            content: format!("{header}{added}"),
            added: format!("{header}{added}"),
        });
    }
    Ok(edits)
}

/// `unclaimed.yaml`, or `unclaimed-2.yaml` and so on: never an existing file.
fn free_name(dir: &Path, stem: &str) -> PathBuf {
    let first = dir.join(format!("{stem}.yaml"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}.yaml")))
        .find(|p| !p.exists())
        .expect("some name is free")
}

/// Writes an edit through a temporary file renamed into place; a new file
/// never replaces one that appeared meanwhile.
pub fn write(edit: &FileEdit) -> std::io::Result<()> {
    use crate::atomic::Existing;
    let existing = if edit.new {
        Existing::Keep
    } else {
        Existing::Replace
    };
    crate::atomic::write(&edit.path, existing, |w| {
        w.write_all(edit.content.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(object: &str) -> Suggestion {
        Suggestion {
            namespace: "ns".into(),
            check: "ha/replicas",
            object: object.into(),
            comments: vec![format!("{object}: spec.replicas=1, want >= 2")],
        }
    }

    const ENTRY: &str = "  # Deployment/a: spec.replicas=1, want >= 2\n  - check: ha/replicas\n    namespace: ns\n    object: Deployment/a\n    jira: TODO\n";

    #[test]
    fn empty_flow_list_becomes_a_block() {
        let text = "# owners: team a\ncomponent: A   # the Jira component\nnamespaces: [ns]\nexceptions: []   # none yet\n";
        let (out, added) = append(text, &[s("Deployment/a")], "TODO");
        assert_eq!(out, format!("# owners: team a\ncomponent: A   # the Jira component\nnamespaces: [ns]\nexceptions:\n{ENTRY}"));
        assert_eq!(added, ENTRY);
    }

    #[test]
    fn block_list_keeps_its_items_comments_and_indent() {
        let text = "component: A\nexceptions:\n# keep me\n- check: ha/probes\n  jira: OCPBUGS-1\nnamespaces: [ns]\n";
        let (out, _) = append(text, &[s("Deployment/a")], "TODO");
        assert_eq!(
            out,
            "component: A\nexceptions:\n# keep me\n- check: ha/probes\n  jira: OCPBUGS-1\n# Deployment/a: spec.replicas=1, want >= 2\n- check: ha/replicas\n  namespace: ns\n  object: Deployment/a\n  jira: TODO\nnamespaces: [ns]\n"
        );
    }

    #[test]
    fn missing_key_is_added_at_the_end() {
        let (out, _) = append(
            "component: A\nnamespaces: [ns]",
            &[s("Deployment/a")],
            "TODO",
        );
        assert_eq!(
            out,
            format!("component: A\nnamespaces: [ns]\nexceptions:\n{ENTRY}")
        );
    }

    #[test]
    fn block_list_at_end_without_trailing_newline() {
        let (out, _) = append(
            "component: A\nexceptions:\n  - check: ha/probes\n    jira: OCPBUGS-1",
            &[s("Deployment/a")],
            "TODO",
        );
        assert_eq!(
            out,
            format!(
                "component: A\nexceptions:\n  - check: ha/probes\n    jira: OCPBUGS-1\n{ENTRY}"
            )
        );
    }

    #[test]
    fn appended_text_parses_as_yaml() {
        let text = "component: A\nnamespaces: [ns]\nexceptions: []\n";
        let (out, _) = append(text, &[s("Deployment/a"), s("*weird: name")], "TODO");
        assert!(out.contains("object: \"*weird: name\""), "{out}");
        crate::exceptions::tree::parse(&out).unwrap().unwrap();
    }

    /// Text from the cluster (an event message in a comment, an object
    /// name) cannot add entries: the file reads back as exactly the entries
    /// meant, whatever line breaks and controls it holds.
    #[test]
    fn hostile_text_reads_back_as_exactly_the_entries_meant() {
        let hostile = "ok\r  - check: ha/replicas\r    allow: pwned\r    approved-by: x\u{85}\u{2028}- check: ha/pdb\n#";
        let mut sug = s("Deployment/a");
        sug.comments = vec![format!("Deployment/a: {hostile}")];
        let mut weird = s("Deployment/evil\n  - check: ha/probes\n    allow: x");
        weird.comments = vec![hostile.to_owned()];
        let text = "component: A\nnamespaces: [ns]\nexceptions: []\n";
        let (out, _) = append(text, &[sug, weird], "TODO");
        let doc: serde_json::Value = serde_saphyr::from_str(&out).expect("parses");
        let entries = doc["exceptions"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{out}");
        for e in entries {
            let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["check", "jira", "namespace", "object"], "{out}");
            assert_eq!(e["jira"], "TODO");
        }
        assert_eq!(
            entries[1]["object"],
            "Deployment/evil\n  - check: ha/probes\n    allow: x"
        );
    }
}
