//! A cheap, stable fingerprint of a model file or folder, stored with each conversation so that
//! resuming on different weights can be noticed.
//!
//! Hashing a multi-gigabyte GGUF in full would cost seconds at every start, so this hashes each
//! file's name, size and first and last MiB: quantized weights, the tokenizer and the metadata
//! all change those (GGUF puts metadata first and tensor data last). It is not a content hash and
//! cannot vouch for a file's integrity; `pull` checks SHA-256 for that.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{Error, Result};

const MIB: u64 = 1 << 20;

/// `fp1:` and 64 hex digits: SHA-256 over, for each file (a file, or a folder's files sorted by
/// name, not recursing), its name, size, first MiB and last MiB.
pub fn fingerprint(path: &Path) -> Result<String> {
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| Error::StoreIo { path: p, source }
    };
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io(path))? {
            let entry = entry.map_err(io(path))?;
            if entry.file_type().map_err(io(path))?.is_file() {
                files.push(entry.path());
            }
        }
        files.sort();
    } else {
        files.push(path.to_owned());
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; MIB as usize];
    for file in &files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        h.update(name.unwrap_or_default().as_bytes());
        h.update([0]);
        let mut f = File::open(file).map_err(io(file))?;
        let size = f.metadata().map_err(io(file))?.len();
        h.update(size.to_le_bytes());
        let head = read_at(&mut f, 0, size.min(MIB), &mut buf).map_err(io(file))?;
        h.update(head);
        if size > MIB {
            let start = (size - MIB).max(MIB);
            let tail = read_at(&mut f, start, size - start, &mut buf).map_err(io(file))?;
            h.update(tail);
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("fp1:{hex}"))
}

fn read_at<'a>(f: &mut File, at: u64, len: u64, buf: &'a mut [u8]) -> std::io::Result<&'a [u8]> {
    let len = usize::try_from(len).unwrap_or(buf.len()).min(buf.len());
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(&mut buf[..len])?;
    Ok(&buf[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_content_and_not_otherwise() {
        let dir = std::env::temp_dir().join(format!("samtal-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let a = dir.join("a.bin");
        let mut data = vec![7u8; 3 * MIB as usize];
        std::fs::write(&a, &data).unwrap_or_default();
        let first = fingerprint(&a).ok();
        assert!(first.as_deref().is_some_and(|f| f.starts_with("fp1:")));
        assert_eq!(fingerprint(&a).ok(), first, "stable");
        // A change in the last MiB is seen; so is one in the first.
        let n = data.len();
        data[n - 1] = 8;
        std::fs::write(&a, &data).unwrap_or_default();
        let second = fingerprint(&a).ok();
        assert_ne!(second, first);
        data[0] = 9;
        std::fs::write(&a, &data).unwrap_or_default();
        assert_ne!(fingerprint(&a).ok(), second);
        // A folder hashes its files.
        assert!(fingerprint(&dir).is_ok_and(|f| f.starts_with("fp1:")));
        assert!(fingerprint(&dir.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
