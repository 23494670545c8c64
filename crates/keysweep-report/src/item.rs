//! [`Item`]: a finding and its origin, the unit every writer takes.

use keysweep_core::Finding;
use std::cmp::Ordering;
use std::path::Path;

use crate::origin::{GitOrigin, Origin};

/// A finding plus where it came from.
#[derive(Clone, Debug)]
pub struct Item {
    /// The finding (for history findings, positions are within the blob).
    pub finding: Finding,
    /// Where it came from.
    pub origin: Origin,
}

impl Item {
    /// A finding of a file, stdin or bytes.
    pub fn plain(finding: Finding) -> Item {
        Item {
            finding,
            origin: Origin::Input,
        }
    }

    /// A history finding; `all` says whether every introducing commit was
    /// asked for (records then list them under `provenance`).
    #[cfg(feature = "git")]
    pub fn from_history(hf: keysweep_git::HistoryFinding, all: bool) -> Item {
        Item {
            origin: Origin::Git(GitOrigin {
                blob: hf.blob,
                provenance: hf.provenance.iter().map(Into::into).collect(),
                all,
            }),
            finding: hf.finding,
        }
    }

    /// The git part of the origin, for history findings.
    pub fn git(&self) -> Option<&GitOrigin> {
        self.origin.git()
    }

    /// The path shown for this item ([`display_path`]; empty for unnamed
    /// input).
    pub fn path(&self) -> String {
        self.finding
            .path
            .as_deref()
            .map(display_path)
            .unwrap_or_default()
    }

    /// The order of reports: by displayed path, byte offset and rule id, then
    /// by blob (each blob of a history scan is reported once, so history
    /// findings sort deterministically).
    pub fn report_order(&self, other: &Item) -> Ordering {
        (
            self.path(),
            self.finding.span.start,
            &self.finding.rule.id,
            self.git().map(|g| g.blob.as_str()),
        )
            .cmp(&(
                other.path(),
                other.finding.span.start,
                &other.finding.rule.id,
                other.git().map(|g| g.blob.as_str()),
            ))
    }
}

/// Sorts items in report order ([`Item::report_order`]).
pub fn sort_items(items: &mut [Item]) {
    items.sort_by(Item::report_order);
}

/// A path as reports show it: without a leading `./`, with `/` separators.
pub fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_dot_slash() {
        assert_eq!(display_path(Path::new("./a/b.txt")), "a/b.txt");
        assert_eq!(display_path(Path::new("/abs/c")), "/abs/c");
        assert_eq!(display_path(Path::new("b")), "b");
    }

    #[test]
    fn report_order_is_path_offset_rule() {
        let s = keysweep_core::Scanner::with_default_rules().unwrap();
        let text = b"a AKIAQYLPMN5HHHFPZAM2\nb AKIAQYLPMN5HHHFPZAM3\n";
        let named = |p: &str| {
            let p: std::sync::Arc<Path> = Path::new(p).into();
            s.scan_slice(&mut s.scratch(), text, Some(&p))
        };
        let mut items: Vec<Item> = named("./z.txt")
            .into_iter()
            .chain(named("a.txt"))
            .map(Item::plain)
            .collect();
        sort_items(&mut items);
        let keys: Vec<(String, usize)> = items
            .iter()
            .map(|i| (i.path(), i.finding.span.start))
            .collect();
        assert_eq!(
            keys,
            [
                ("a.txt".to_string(), 2),
                ("a.txt".to_string(), 25),
                ("z.txt".to_string(), 2),
                ("z.txt".to_string(), 25)
            ]
        );
    }
}
