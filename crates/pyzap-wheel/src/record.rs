//! RECORD: `path,algorithm=urlsafe-b64-digest,size` lines, read as CSV
//! (paths may be quoted when they hold commas).

use std::collections::HashMap;

/// One RECORD line: the expected digest (`sha256`, base64url without padding).
#[derive(Debug, Clone)]
pub struct RecordEntry {
    pub algorithm: String,
    pub digest: String,
}

pub fn parse_record(text: &str) -> Result<HashMap<String, Option<RecordEntry>>, String> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv(line);
        let path = fields
            .first()
            .ok_or_else(|| format!("RECORD line {} is empty", i + 1))?;
        let hash = fields.get(1).map(String::as_str).unwrap_or("");
        let entry = if hash.is_empty() {
            None
        } else {
            let (algorithm, digest) = hash
                .split_once('=')
                .ok_or_else(|| format!("RECORD line {} has a malformed hash `{hash}`", i + 1))?;
            Some(RecordEntry {
                algorithm: algorithm.to_string(),
                digest: digest.trim_end_matches('=').to_string(),
            })
        };
        out.insert(path.clone(), entry);
    }
    Ok(out)
}

fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_paths_and_empty_hashes() {
        let r = parse_record(
            "a/b.py,sha256=abc,3\n\"x,y.txt\",sha256=def=,4\npkg.dist-info/RECORD,,\n",
        )
        .unwrap();
        assert_eq!(r["a/b.py"].as_ref().unwrap().digest, "abc");
        assert_eq!(r["x,y.txt"].as_ref().unwrap().digest, "def");
        assert!(r["pkg.dist-info/RECORD"].is_none());
    }
}
