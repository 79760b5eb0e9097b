//! Wheels (`.whl`): the RECORD gives the order and the expected hashes, the
//! zip members give the real bytes and executable bits.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::record::parse_record;
use super::{Package, PayloadKind};
use crate::error::{Error, Result};

/// Reads a wheel into a package whose payload holds the real member bytes, in
/// RECORD order.
pub fn read_wheel(path: &Path, site_packages: &str) -> Result<Package> {
    let shown = path.display().to_string();
    let file = crate::limits::open_regular(path).map_err(|e| Error::io(&shown, &e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::input(&shown, 0, "zip", format!("not a readable wheel: {e}")))?;
    let mut members: BTreeMap<String, (Vec<u8>, u32)> = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| Error::input(&shown, 0, "zip", format!("member {i}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        if entry.size() > super::payload::MAX_FILE_SIZE {
            return Err(Error::input(
                &shown,
                0,
                &name,
                "member exceeds the size limit",
            ));
        }
        let mode = entry.unix_mode().unwrap_or(0o644);
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Error::input(&shown, 0, &name, format!("cannot read member: {e}")))?;
        members.insert(name, (bytes, mode));
    }
    let record_name = members
        .keys()
        .find(|k| k.ends_with(".dist-info/RECORD") && k.matches('/').count() == 1)
        .cloned()
        .ok_or_else(|| Error::input(&shown, 0, "RECORD", "the wheel has no .dist-info/RECORD"))?;
    let record_bytes = members[&record_name].0.clone();
    let record_file = format!("{shown}!{record_name}");
    let lookup = |rel: &str| members.get(rel).map(|(b, _)| b.clone());
    let mut payload = parse_record(&record_file, &record_bytes, site_packages, Some(&lookup))?;
    let rel_names: Vec<String> = record_bytes_paths(&record_bytes);
    for (entry, rel) in payload.iter_mut().zip(rel_names) {
        if let Some((bytes, mode)) = members.get(&rel) {
            if let PayloadKind::File(blob) = &entry.kind {
                if blob.len() != bytes.len() as u64 {
                    return Err(Error::input(
                        &shown,
                        0,
                        &rel,
                        "member size differs from RECORD",
                    ));
                }
            }
            if mode & 0o111 != 0 {
                entry.mode = 0o755;
            }
        } else if !rel.ends_with(".dist-info/RECORD") {
            return Err(Error::input(
                &record_file,
                0,
                &rel,
                "RECORD lists a file the wheel does not contain",
            ));
        }
    }
    let base = record_name
        .trim_end_matches("/RECORD")
        .trim_end_matches(".dist-info");
    let (name, version) = base
        .split_once('-')
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .unwrap_or((base.to_string(), String::new()));
    Ok(Package {
        name,
        version,
        payload,
        after: Vec::new(),
        compile: true,
    })
}

fn record_bytes_paths(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            if let Some(rest) = l.strip_prefix('"') {
                rest.split("\",").next().unwrap_or("").replace("\"\"", "\"")
            } else {
                l.split(',').next().unwrap_or("").to_string()
            }
        })
        .collect()
}
