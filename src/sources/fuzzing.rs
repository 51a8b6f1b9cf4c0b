//! What the fuzz targets (`fuzz/`) and the random tests assert of the fast
//! readers: on any input, a fast reader either refuses (and the reference
//! parser, which vigil falls back to, decides) or reads exactly what the
//! reference reads. `json_fast` runs SSE2 `unsafe` blocks on untrusted
//! bytes; this is the property that earns them.
//!
//! One leniency is deliberate: decoding Kubernetes documents, both readers
//! skip the fields vigil does not read without validating them (YAML by
//! indentation, JSON by brackets and quotes), so malformed text inside them
//! (a raw control character, a misindented line) is not seen there; read
//! as values, everything parsed, it is refused as the reference refuses it.
//!
//! Not in the product binary (the `devtools` feature).

use serde_json::Value;

use super::decode::Doc;

/// The parts of a decoded document that must agree, comparable.
fn doc_summary(docs: &[Doc]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            format!(
                "{:?} kindless={} other={} lists={:?} snapshot={} end={}",
                d.objects,
                d.kindless,
                d.other_kinds,
                d.lists,
                d.snapshot.is_some(),
                d.snapshot_end.is_some()
            )
        })
        .collect()
}

/// `json_fast` agrees with serde_json on `text`, as values and as decoded
/// Kubernetes documents; or refuses it.
pub fn json_agrees(text: &str) -> Result<(), String> {
    if let Ok(fast) = super::json_fast::from_stream_as::<Value>(text) {
        let reference: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
            .into_iter()
            .collect();
        match reference {
            Ok(r) if r == fast => {}
            Ok(r) => return Err(format!("values differ: fast {fast:?}, serde_json {r:?}")),
            Err(e) => return Err(format!("fast read {fast:?}, serde_json refused: {e}")),
        }
    }
    let values_read = super::json_fast::from_stream_as::<Value>(text).is_ok();
    if let Ok(fast) = super::json_fast::from_stream_as::<Doc>(text) {
        let reference: Result<Vec<Doc>, _> = serde_json::Deserializer::from_str(text)
            .into_iter()
            .collect();
        match reference {
            Ok(r) if doc_summary(&r) == doc_summary(&fast) => {}
            Ok(r) => {
                return Err(format!(
                    "documents differ: fast {:?}, serde_json {:?}",
                    doc_summary(&fast),
                    doc_summary(&r)
                ))
            }
            // The same leniency as YAML's: what vigil does not read (an
            // unknown field, its name included) is skipped unvalidated.
            Err(_) if !values_read => {}
            Err(e) => return Err(format!("fast decoded a document, serde_json refused: {e}")),
        }
    }
    Ok(())
}

/// `yaml_fast` agrees with serde-saphyr on `text`, as values and as decoded
/// Kubernetes documents; or refuses it.
pub fn yaml_agrees(text: &str) -> Result<(), String> {
    if let Ok(fast) = super::yaml_fast::from_multiple_as::<Value>(text) {
        match serde_saphyr::from_multiple::<Value>(text) {
            // The full parser yields empty documents as null; they hold nothing.
            Ok(r) => {
                let r: Vec<Value> = r.into_iter().filter(|v| !v.is_null()).collect();
                if r != fast {
                    return Err(format!("values differ: fast {fast:?}, serde-saphyr {r:?}"));
                }
            }
            Err(e) => return Err(format!("fast read {fast:?}, serde-saphyr refused: {e}")),
        }
    }
    let values_read = super::yaml_fast::from_multiple_as::<Value>(text).is_ok();
    if let Ok(fast) = super::yaml_fast::from_multiple(text) {
        match serde_saphyr::from_multiple::<Doc>(text) {
            Ok(r) => {
                let (f, r) = (doc_summary(&fast), doc_summary(&r));
                // Empty documents decode to nothing either way.
                let keep = |v: Vec<String>| -> Vec<String> {
                    v.into_iter()
                        .filter(|s| !s.starts_with("[] kindless=0 other=0 lists=[] snapshot=false"))
                        .collect()
                };
                if keep(f.clone()) != keep(r.clone()) {
                    return Err(format!("documents differ: fast {f:?}, serde-saphyr {r:?}"));
                }
            }
            // Decoding documents, the fast reader skips the fields vigil
            // does not read by their indentation alone, unparsed: what is
            // malformed inside them goes unseen. That is its one leniency,
            // and the reason it is fast; reading the same text as values
            // (everything parsed) it refuses, as the reference does.
            Err(_) if !values_read => {}
            Err(e) => {
                return Err(format!(
                    "fast decoded a document, serde-saphyr refused: {e}"
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oracles_accept_agreement_and_catch_nothing_on_refusals() {
        assert_eq!(
            json_agrees(r#"{"kind":"Pod","metadata":{"name":"a"}}"#),
            Ok(())
        );
        assert_eq!(
            json_agrees("{not json"),
            Ok(()),
            "both refuse: nothing to compare"
        );
        assert_eq!(yaml_agrees("kind: Pod\nmetadata: {name: a}\n"), Ok(()));
        assert_eq!(yaml_agrees("a: [unclosed\n"), Ok(()));
    }
}
