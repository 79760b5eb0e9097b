//! The names in a zip's central directory, every record of it. The `zip`
//! crate keeps one entry per name (a later duplicate silently replaces an
//! earlier one), so a wheel that holds two members of one name can only be
//! refused by reading the directory itself.

use std::io::{self, Read, Seek, SeekFrom};

/// The signature that opens each central directory record.
const CENTRAL_RECORD: u32 = 0x0201_4b50;
/// The fixed part of a central directory record, before its name.
const CENTRAL_RECORD_LEN: usize = 46;

/// The names of the central directory's records that start at `start`, in
/// order, at most `limit` of them (more is an error).
pub fn central_directory_names(
    reader: &mut (impl Read + Seek),
    start: u64,
    limit: usize,
) -> io::Result<Vec<Vec<u8>>> {
    reader.seek(SeekFrom::Start(start))?;
    let mut names = Vec::new();
    let mut fixed = [0u8; CENTRAL_RECORD_LEN];
    loop {
        match reader.read_exact(&mut fixed[..4]) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            other => other?,
        }
        if u32::from_le_bytes(fixed[..4].try_into().unwrap()) != CENTRAL_RECORD {
            break;
        }
        reader.read_exact(&mut fixed[4..])?;
        let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]) as usize;
        let (name_len, extra_len, comment_len) = (u16_at(28), u16_at(30), u16_at(32));
        if names.len() == limit {
            return Err(io::Error::other(format!("more than {limit} members")));
        }
        let mut name = vec![0u8; name_len];
        reader.read_exact(&mut name)?;
        reader.seek(SeekFrom::Current((extra_len + comment_len) as i64))?;
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(names: &[&str]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        for n in names {
            w.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(n.as_bytes()).unwrap();
        }
        w.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn every_record_is_listed_in_order() {
        let bytes = zip_of(&["a.py", "pkg/b.py", "pkg-1.0.dist-info/RECORD"]);
        let archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let start = archive.central_directory_start();
        let names = central_directory_names(&mut std::io::Cursor::new(&bytes), start, 10).unwrap();
        assert_eq!(
            names,
            vec![
                b"a.py".to_vec(),
                b"pkg/b.py".to_vec(),
                b"pkg-1.0.dist-info/RECORD".to_vec()
            ]
        );
        let err = central_directory_names(&mut std::io::Cursor::new(&bytes), start, 2).unwrap_err();
        assert_eq!(err.to_string(), "more than 2 members");
    }
}
