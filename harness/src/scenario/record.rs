//! Wheel RECORD files: `path,sha256=<urlsafe-b64>,size` lines (PEP 376/427).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::allowance::PackageAllowance;
use super::payload::{check_payload_shape, PayloadEntry, PayloadKind, MAX_FILE_SIZE};
use crate::content::Blob;
use crate::error::{Error, Result};
use crate::fs::normalize_relative;

/// Looks up the real bytes of a RECORD path (from a wheel), if known.
pub type ContentLookup<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// Splits one CSV line, honouring double quotes.
pub(super) fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("non-empty").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().expect("non-empty").push(c),
        }
    }
    fields
}

/// Parses a RECORD. Paths are relative to `site_packages`; `contents` gives
/// real bytes for a path when known (from a wheel), otherwise bytes are made
/// deterministically from the recorded hash and size. The RECORD's own line
/// (empty hash) gets the RECORD's bytes.
pub fn parse_record(
    file: &str,
    bytes: &[u8],
    site_packages: &str,
    contents: Option<ContentLookup<'_>>,
) -> Result<Vec<PayloadEntry>> {
    parse_record_within(
        file,
        bytes,
        site_packages,
        contents,
        &PackageAllowance::standalone(),
    )
}

/// [`parse_record`] for a package that may hold at most `allowance`: the
/// declared sizes and the line count are checked against it before any
/// bytes are made.
pub(crate) fn parse_record_within(
    file: &str,
    bytes: &[u8],
    site_packages: &str,
    contents: Option<ContentLookup<'_>>,
    allowance: &PackageAllowance,
) -> Result<Vec<PayloadEntry>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        Error::input(file, line, "encoding", "RECORD is not valid UTF-8")
    })?;
    struct Line {
        rel: String,
        path: String,
        seed: String,
        size: u64,
        is_own_record: bool,
        executable: bool,
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut total = 0u64;
    for (i, raw_line) in text.lines().enumerate() {
        let line = i + 1;
        if raw_line.trim().is_empty() {
            continue;
        }
        if let Some(over) = allowance.over_entries(lines.len() + 1) {
            return Err(Error::input(file, line, "record", over));
        }
        let fields = split_csv(raw_line);
        if fields.len() != 3 {
            return Err(Error::input(
                file,
                line,
                "record",
                format!(
                    "expected 3 comma-separated fields (path,hash,size), found {}",
                    fields.len()
                ),
            ));
        }
        let (rel, hash, size) = (&fields[0], &fields[1], &fields[2]);
        if rel.starts_with('\u{feff}') {
            return Err(Error::input(
                file,
                line,
                "path",
                format!("{rel:?} starts with a byte-order mark"),
            ));
        }
        let path = normalize_relative(site_packages, rel)
            .map_err(|e| Error::input(file, line, "path", e.to_string()))?;
        if !seen.insert(path.clone()) {
            return Err(Error::input(
                file,
                line,
                "path",
                format!("duplicate path {rel:?}"),
            ));
        }
        let size: Option<u64> = if size.is_empty() {
            None
        } else {
            // Plain decimal digits only: `str::parse` would take `+1`.
            let plain = size.bytes().all(|b| b.is_ascii_digit());
            Some(size.parse().ok().filter(|_| plain).ok_or_else(|| {
                Error::input(file, line, "size", format!("{size:?} is not a byte count"))
            })?)
        };
        if let Some(s) = size {
            if s > MAX_FILE_SIZE {
                return Err(Error::input(
                    file,
                    line,
                    "size",
                    format!("declared size {s} exceeds the limit of {MAX_FILE_SIZE} bytes"),
                ));
            }
            total += s;
            if let Some(over) = allowance.over_bytes(total) {
                return Err(Error::input(file, line, "size", over));
            }
        }
        if !hash.is_empty() {
            let Some((algo, digest)) = hash.split_once('=') else {
                return Err(Error::input(
                    file,
                    line,
                    "hash",
                    format!("{hash:?} is not of the form algorithm=digest"),
                ));
            };
            let expected_len = match algo {
                "sha256" => 32,
                "sha384" => 48,
                "sha512" => 64,
                other => {
                    return Err(Error::input(
                        file,
                        line,
                        "hash",
                        format!("unsupported hash algorithm {other:?}"),
                    ))
                }
            };
            match URL_SAFE_NO_PAD.decode(digest.trim_end_matches('=')) {
                Ok(d) if d.len() == expected_len => {}
                _ => {
                    return Err(Error::input(
                        file,
                        line,
                        "hash",
                        format!("{digest:?} is not a valid urlsafe-base64 {algo} digest"),
                    ))
                }
            }
            if size.is_none() {
                return Err(Error::input(
                    file,
                    line,
                    "size",
                    "a hashed entry needs a size",
                ));
            }
        }
        let is_own_record = hash.is_empty() && rel.ends_with(".dist-info/RECORD");
        let executable = rel.ends_with(".so") || path.starts_with("bin/");
        lines.push(Line {
            rel: rel.clone(),
            path,
            seed: format!("{hash}|{rel}"),
            size: size.unwrap_or(0),
            is_own_record,
            executable,
        });
    }
    // Every line is valid and the declared total is within bounds: only now make the bytes.
    for l in lines {
        let blob = match contents.and_then(|c| c(&l.rel)) {
            Some(bytes) => Blob::new(bytes),
            None if l.is_own_record => Blob::new(bytes.to_vec()),
            None => Blob::synthetic(l.seed.as_bytes(), l.size),
        };
        let mode = if l.executable { 0o755 } else { 0o644 };
        out.push(PayloadEntry {
            path: Arc::from(l.path.as_str()),
            kind: PayloadKind::File(blob),
            mode,
        });
    }
    if out.is_empty() {
        return Err(Error::input(file, 0, "record", "RECORD lists no files"));
    }
    check_payload_shape(file, &out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: &str = "lib/python3.9/site-packages";

    #[test]
    fn parses_real_lines_and_the_records_own_line() {
        let rec = b"Cython/Shadow.py,sha256=0eBKGJAF6VK2jMYvpAbStwObh2f6KsSc3eEJqm4h3Yg,12987\n../../../bin/cython,sha256=0eBKGJAF6VK2jMYvpAbStwObh2f6KsSc3eEJqm4h3Yg,10\nCython-0.29.21.dist-info/RECORD,,\n";
        let p = parse_record("R", rec, SP, None).unwrap();
        assert_eq!(&*p[0].path, "lib/python3.9/site-packages/Cython/Shadow.py");
        assert_eq!(&*p[1].path, "bin/cython");
        assert_eq!(p[1].mode, 0o755);
        match &p[2].kind {
            PayloadKind::File(b) => assert_eq!(b.len(), rec.len() as u64),
            _ => panic!(),
        }
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let err = parse_record("R", b"a.py,sha256=!!,3\n", SP, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "R:1: hash: \"!!\" is not a valid urlsafe-base64 sha256 digest"
        );
        let err = parse_record("R", b"ok.py,,\n../../../../etc/x,,\n", SP, None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("R:2: path: "), "{err}");
        let err = parse_record("R", b"a.py,,12x\n", SP, None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("R:1: size: "), "{err}");
        let err = parse_record("R", b"a,,\na/b,,\n", SP, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs"), "{err}");
    }
}
