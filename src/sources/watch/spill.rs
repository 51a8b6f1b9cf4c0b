//! Closed intervals, kept off the heap during a long watch: past
//! [`SPILL_AT`] in memory they go, as the JSON lines of the intervals file,
//! to an unnamed temporary file (gone when vigil exits, however it exits),
//! and come back at the end for the judgement. A watch's memory then
//! follows the objects that are unwell now, not the hours it has run.

use std::io::{BufRead, BufWriter, Seek, Write};

use crate::model::intervals::Interval;

/// Intervals held in memory before they are written out.
pub(super) const SPILL_AT: usize = 1024;

#[derive(Debug, Default)]
pub(super) struct Done {
    mem: Vec<Interval>,
    file: Option<BufWriter<std::fs::File>>,
    spilled: usize,
    /// Writing failed once: everything stays in memory from then on.
    stuck: bool,
}

impl Done {
    pub(super) fn push(&mut self, i: Interval) {
        self.mem.push(i);
        if self.mem.len() >= SPILL_AT && !self.stuck {
            if let Err(e) = self.spill() {
                crate::term::warning(&format!(
                    "vigil watch: cannot write intervals to a temporary file ({e}); keeping them in memory"
                ));
                self.stuck = true;
            }
        }
    }

    fn spill(&mut self) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(BufWriter::new(tempfile::tempfile()?));
        }
        let w = self.file.as_mut().expect("just made");
        for i in &self.mem {
            serde_json::to_writer(&mut *w, i)?;
            w.write_all(b"\n")?;
        }
        self.spilled += self.mem.len();
        self.mem.clear();
        Ok(())
    }

    /// Every interval, the spilled ones read back first; `Err` says why
    /// some could not be (with what could).
    pub(super) fn into_vec(self) -> (Vec<Interval>, Option<String>) {
        let Some(w) = self.file else {
            return (self.mem, None);
        };
        let mut out = Vec::with_capacity(self.spilled + self.mem.len());
        let read = (|| -> std::io::Result<()> {
            let mut f = w.into_inner().map_err(|e| e.into_error())?;
            f.rewind()?;
            for line in std::io::BufReader::new(f).lines() {
                let i = serde_json::from_str(&line?).map_err(std::io::Error::other)?;
                out.push(i);
            }
            Ok(())
        })();
        let lost = read.err().map(|e| {
            format!(
                "{} of {} intervals written to a temporary file during the watch could not be read back: {e}",
                self.spilled - out.len(),
                self.spilled
            )
        });
        out.extend(self.mem);
        (out, lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::intervals::Reason;

    #[test]
    fn a_long_watch_keeps_few_intervals_in_memory_and_loses_none() {
        let mut d = Done::default();
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let n = SPILL_AT * 3 + 17;
        for k in 0..n {
            d.push(Interval {
                kind: "Pod".into(),
                namespace: "shop".into(),
                name: format!("web-{k}"),
                owner: None,
                container: Some("web".into()),
                reason: Reason::PodNotReady,
                start: t + chrono::Duration::seconds(k as i64),
                end: t + chrono::Duration::seconds(k as i64 + 1),
                ongoing: false,
                message: Some("\u{1b}[2J a message\nof two lines".into()),
                count: None,
                connection: None,
                component: None,
            });
            assert!(d.mem.len() < SPILL_AT);
        }
        assert_eq!(d.spilled, SPILL_AT * 3);
        let (all, lost) = d.into_vec();
        assert_eq!(lost, None);
        assert_eq!(all.len(), n);
        assert!(all
            .iter()
            .enumerate()
            .all(|(k, i)| i.name == format!("web-{k}")));
        assert_eq!(
            all[5].message.as_deref(),
            Some("\u{1b}[2J a message\nof two lines")
        );
    }
}
