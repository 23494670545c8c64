//! Reading findings back: a JSON report (`keysweep scan --format json`), a
//! bare JSON array of records, or JSON Lines (`--format jsonl`).

use serde_json::Value;
use std::path::Path;

use crate::error::{Error, Result};
use crate::record::Record;

/// Parses the records of a findings text; `origin` names it in errors.
///
/// Accepted shapes: the JSON report document (its `findings` list), a bare
/// array of records, one record object, or JSON Lines (blank lines
/// skipped). Entries without a `fingerprint` (such as a summary line) are
/// passed over; a record needs at least `rule_id` and `fingerprint`.
pub fn read_records(origin: &str, text: &str) -> Result<Vec<Record>> {
    let json = |line: Option<usize>| {
        move |source| Error::Json {
            origin: origin.to_string(),
            line,
            source,
        }
    };
    let values: Vec<(Option<usize>, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(a)) => a.into_iter().map(|v| (None, v)).collect(),
        Ok(Value::Object(mut o)) => match o.remove("findings") {
            Some(Value::Array(a)) => a.into_iter().map(|v| (None, v)).collect(),
            Some(_) => {
                return Err(Error::NotFindings {
                    origin: origin.to_string(),
                    why: "`findings` is not a list",
                })
            }
            None => vec![(None, Value::Object(o))],
        },
        Ok(_) => {
            return Err(Error::NotFindings {
                origin: origin.to_string(),
                why: "neither an object nor a list",
            })
        }
        Err(_) => {
            let mut out = Vec::new();
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() {
                    continue;
                }
                let v = serde_json::from_str(l).map_err(json(Some(i + 1)))?;
                out.push((Some(i + 1), v));
            }
            out
        }
    };
    values
        .into_iter()
        .filter(|(_, v)| v.get("fingerprint").is_some())
        .map(|(line, v)| serde_json::from_value::<Record>(v).map_err(json(line)))
        .collect()
}

/// Reads the records of a findings file ([`read_records`]).
pub fn read_records_file(path: &Path) -> Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    read_records(&path.display().to_string(), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REC: &str = r#"{"rule_id":"ks.x.1","fingerprint":"00000000000000000000000000000000000000000000000000000000000000aa","path":"a","line":3}"#;

    #[test]
    fn every_shape_reads() {
        let doc = format!(r#"{{"tool":"keysweep","findings":[{REC}],"summary":{{"files":1}}}}"#);
        let arr = format!("[{REC},{REC}]");
        let lines = format!("{REC}\n\n{REC}\n");
        assert_eq!(read_records("d", &doc).unwrap().len(), 1);
        assert_eq!(read_records("a", &arr).unwrap().len(), 2);
        assert_eq!(read_records("l", &lines).unwrap().len(), 2);
        assert_eq!(read_records("o", REC).unwrap()[0].line, 3);
        assert!(read_records("e", "").unwrap().is_empty());
    }

    #[test]
    fn malformed_input_names_the_place() {
        let e = read_records("f.jsonl", &format!("{REC}\n{{oops\n")).unwrap_err();
        assert!(e.to_string().starts_with("f.jsonl:2:"), "{e}");
        let e = read_records("f.json", "42").unwrap_err();
        assert!(
            e.to_string().contains("not a keysweep findings file"),
            "{e}"
        );
        let e = read_records("f.json", r#"[{"fingerprint":"x"}]"#).unwrap_err();
        assert!(e.to_string().contains("rule_id"), "{e}");
    }
}
