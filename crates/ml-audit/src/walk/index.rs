//! A reader of git's index file (`.git/index`, versions 2 to 4): the paths
//! git tracks. Only the paths are read; an index this reader does not
//! understand (a split index, an unknown version, a truncated file) is an
//! error, so that the caller audits every file rather than guess.

/// One path of the index.
#[derive(Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The path, relative to the work tree, `/`-separated, as bytes.
    pub path: Vec<u8>,
    /// A directory entry of a sparse index: everything under it is tracked.
    pub directory: bool,
}

/// Why an index could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The file does not start with `DIRC`.
    #[error("not a git index (no DIRC signature)")]
    Signature,
    /// A version other than 2, 3 or 4.
    #[error("git index version {0} is not supported")]
    Version(u32),
    /// The file ends inside an entry.
    #[error("git index is truncated at entry {0}")]
    Truncated(u32),
    /// A split index keeps most entries in another file.
    #[error("split git index (core.splitIndex) is not supported")]
    Split,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Git's offset varint (`decode_varint`): used by index version 4 for the
/// bytes to drop from the previous path.
fn varint(b: &[u8], at: &mut usize) -> Option<usize> {
    let mut c = *b.get(*at)?;
    *at += 1;
    let mut val = usize::from(c & 127);
    while c & 128 != 0 {
        c = *b.get(*at)?;
        *at += 1;
        val = val
            .checked_add(1)?
            .checked_mul(128)?
            .checked_add(usize::from(c & 127))?;
    }
    Some(val)
}

/// The paths of an index; `hash_len` is 20 (SHA-1) or 32 (SHA-256).
pub fn read_index(b: &[u8], hash_len: usize) -> Result<Vec<IndexEntry>, IndexError> {
    if b.get(..4) != Some(b"DIRC") {
        return Err(IndexError::Signature);
    }
    let version = u32_at(b, 4).ok_or(IndexError::Signature)?;
    if !(2..=4).contains(&version) {
        return Err(IndexError::Version(version));
    }
    let count = u32_at(b, 8).ok_or(IndexError::Truncated(0))?;
    let mut at = 12;
    // No more entries than bytes could hold: a forged count allocates nothing.
    let mut out = Vec::with_capacity((count as usize).min(b.len() / 64));
    let mut prev: Vec<u8> = Vec::new();
    // ctime, mtime (8 bytes each), dev, ino, mode, uid, gid, size (4 each).
    const STAT: usize = 40;
    for i in 0..count {
        let start = at;
        let mode = u32_at(b, start + 24).ok_or(IndexError::Truncated(i))?;
        let flags_at = start + STAT + hash_len;
        let flags = u16_at(b, flags_at).ok_or(IndexError::Truncated(i))?;
        let mut name_at = flags_at + 2;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return Err(IndexError::Truncated(i));
            }
            name_at += 2;
        }
        let path = if version == 4 {
            let mut p = name_at;
            let drop = varint(b, &mut p).ok_or(IndexError::Truncated(i))?;
            if drop > prev.len() {
                return Err(IndexError::Truncated(i));
            }
            let nul = b
                .get(p..)
                .and_then(|r| r.iter().position(|&c| c == 0))
                .ok_or(IndexError::Truncated(i))?;
            let mut path = prev[..prev.len() - drop].to_vec();
            path.extend_from_slice(&b[p..p + nul]);
            at = p + nul + 1;
            path
        } else {
            let nul = b
                .get(name_at..)
                .and_then(|r| r.iter().position(|&c| c == 0))
                .ok_or(IndexError::Truncated(i))?;
            let path = b[name_at..name_at + nul].to_vec();
            // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
            at = start + ((name_at - start + nul + 8) & !7);
            if at > b.len() {
                return Err(IndexError::Truncated(i));
            }
            path
        };
        prev.clone_from(&path);
        out.push(IndexEntry {
            directory: mode & 0o170000 == 0o040000,
            path,
        });
    }
    // Extensions: a four-byte signature and a length each, then the
    // trailing hash.
    while at + 8 + hash_len <= b.len() {
        let sig = &b[at..at + 4];
        if sig == b"link" {
            return Err(IndexError::Split);
        }
        let len = u32_at(b, at + 4).ok_or(IndexError::Truncated(count))? as usize;
        at = at.saturating_add(8).saturating_add(len);
    }
    Ok(out)
}
