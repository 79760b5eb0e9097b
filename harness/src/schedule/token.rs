//! Schedule tokens: `t1.` followed by URL-safe base64 of the run-length
//! encoded choices (job, run length) as LEB128 varints. A 2,000-step schedule
//! with a handful of switches fits in a few dozen characters.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use thiserror::Error;

const PREFIX: &str = "t1.";

/// Why a token could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// Not a `t1.` token.
    #[error("token must start with {PREFIX:?}")]
    Prefix,
    /// Not valid base64.
    #[error("token is not valid base64")]
    Base64,
    /// The varints are truncated or out of range.
    #[error("token is truncated or corrupt")]
    Corrupt,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn get_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, TokenError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos).ok_or(TokenError::Corrupt)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(TokenError::Corrupt)
}

/// Encodes a choice sequence.
pub fn encode(choices: &[usize]) -> String {
    let mut bytes = Vec::new();
    let mut i = 0;
    while i < choices.len() {
        let job = choices[i];
        let mut run = 1;
        while i + run < choices.len() && choices[i + run] == job {
            run += 1;
        }
        put_varint(&mut bytes, job as u64);
        put_varint(&mut bytes, run as u64);
        i += run;
    }
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Decodes a token into its choice sequence.
pub fn decode(token: &str) -> Result<Vec<usize>, TokenError> {
    const MAX_STEPS: u64 = 100_000_000;
    let body = token
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(TokenError::Prefix)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| TokenError::Base64)?;
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < bytes.len() {
        let job = get_varint(&bytes, &mut pos)?;
        let run = get_varint(&bytes, &mut pos)?;
        if job > u32::MAX as u64 || run == 0 || out.len() as u64 + run > MAX_STEPS {
            return Err(TokenError::Corrupt);
        }
        out.extend(std::iter::repeat_n(job as usize, run as usize));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_stay_short() {
        let mut choices = vec![0; 1500];
        choices.extend([1; 9]);
        choices.extend([0; 500]);
        let t = encode(&choices);
        assert!(t.len() < 20, "{t}");
        assert_eq!(decode(&t).unwrap(), choices);
        assert_eq!(decode(&encode(&[])).unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn bad_tokens_are_rejected() {
        assert_eq!(decode("x1.AAAA"), Err(TokenError::Prefix));
        assert_eq!(decode("t1.@@@"), Err(TokenError::Base64));
        assert_eq!(decode("t1.gA"), Err(TokenError::Corrupt));
        assert_eq!(
            decode(&format!("t1.{}", URL_SAFE_NO_PAD.encode([0u8, 0]))),
            Err(TokenError::Corrupt)
        );
    }
}
