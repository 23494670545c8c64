//! Tree walking: the blobs a commit adds or changes relative to its parent.

use gix::bstr::{BStr, BString, ByteSlice, ByteVec};
use gix::ObjectId;
use std::collections::HashMap;

use crate::{Error, Result};

/// One blob entry of a tree, with its full path.
pub(crate) struct BlobEntry {
    pub(crate) path: BString,
    pub(crate) id: ObjectId,
}

/// Calls `out` for every regular-file blob in `new` that is not in `old` at the
/// same path with the same id (subtrees with equal ids are skipped whole).
/// With `old = None`, every blob of `new` is reported.
pub(crate) fn changed_blobs(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: ObjectId,
    out: &mut dyn FnMut(BlobEntry),
) -> Result<()> {
    let mut prefix = BString::default();
    walk(repo, old, new, &mut prefix, out)
}

struct Owned {
    name: BString,
    mode: gix::objs::tree::EntryMode,
    id: ObjectId,
}

fn entries(repo: &gix::Repository, id: ObjectId) -> Result<Vec<Owned>> {
    let tree = repo.find_tree(id).map_err(Error::git)?;
    let decoded = tree.decode().map_err(Error::git)?;
    Ok(decoded
        .entries
        .iter()
        .map(|e| Owned {
            name: e.filename.to_owned(),
            mode: e.mode,
            id: e.oid.to_owned(),
        })
        .collect())
}

fn walk(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: ObjectId,
    prefix: &mut BString,
    out: &mut dyn FnMut(BlobEntry),
) -> Result<()> {
    if old == Some(new) {
        return Ok(());
    }
    let new_entries = entries(repo, new)?;
    let old_entries = match old {
        Some(o) => entries(repo, o)?,
        None => Vec::new(),
    };
    let old_map: HashMap<&BStr, &Owned> =
        old_entries.iter().map(|e| (e.name.as_bstr(), e)).collect();
    for e in &new_entries {
        let before = old_map.get(e.name.as_bstr());
        if before.is_some_and(|b| b.id == e.id && b.mode == e.mode) {
            continue;
        }
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push_byte(b'/');
        }
        prefix.push_str(&e.name);
        if e.mode.is_tree() {
            let old_sub = before.filter(|b| b.mode.is_tree()).map(|b| b.id);
            walk(repo, old_sub, e.id, prefix, out)?;
        } else if e.mode.is_blob() && before.is_none_or(|b| b.id != e.id) {
            out(BlobEntry {
                path: prefix.clone(),
                id: e.id,
            });
        }
        prefix.truncate(len);
    }
    Ok(())
}

/// Every regular-file blob of a tree: path → id.
pub(crate) fn all_blobs(
    repo: &gix::Repository,
    tree: ObjectId,
) -> Result<HashMap<BString, ObjectId>> {
    let mut map = HashMap::new();
    changed_blobs(repo, None, tree, &mut |b| {
        map.insert(b.path, b.id);
    })?;
    Ok(map)
}
