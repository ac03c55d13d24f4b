//! Bytecode for the target: sources are streamed to `python/buildtime/compile.py`
//! running under the target interpreter (one process per core), which
//! answers with unchecked hash-based pycs (PEP 552) — valid whatever the zip
//! timestamps, so reproducible builds stay reproducible.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::PythonError;

const COMPILER: &str = include_str!("../../../python/buildtime/compile.py");

/// A source (or name) longer than this cannot be framed for the compiler.
const MAX_FRAME: usize = u32::MAX as usize;

/// Compiles `(co_filename, source)` pairs; `None` where a source does not
/// compile (or is too big to send). Holds the sources given and the pycs
/// made, nothing more: a caller bounds memory by the batches it passes
/// (`pyzap-artifact` sends at most 8 MiB of source at a time).
pub fn compile_sources(
    python: &Path,
    sources: &[(String, Vec<u8>)],
    jobs: usize,
) -> Result<Vec<Option<Vec<u8>>>, PythonError> {
    let fits = |(name, src): &&(String, Vec<u8>)| name.len() <= MAX_FRAME && src.len() <= MAX_FRAME;
    let sendable: Vec<&(String, Vec<u8>)> = sources.iter().filter(fits).collect();
    if sendable.is_empty() {
        return Ok(vec![None; sources.len()]);
    }
    let results: Vec<Result<Vec<Option<Vec<u8>>>, PythonError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = split_by_bytes(&sendable, jobs)
            .into_iter()
            .map(|part| scope.spawn(move || compile_chunk(python, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("compile thread panicked"))
            .collect()
    });
    let mut compiled = Vec::with_capacity(sendable.len());
    for r in results {
        compiled.extend(r?);
    }
    let mut compiled = compiled.into_iter();
    Ok(sources
        .iter()
        .map(|s| {
            if fits(&s) {
                compiled.next().flatten()
            } else {
                None
            }
        })
        .collect())
}

/// At most `jobs` consecutive runs of about equal size in bytes, so that one
/// process is not left with all the big files while the others idle.
fn split_by_bytes<'a, 'b>(
    items: &'a [&'b (String, Vec<u8>)],
    jobs: usize,
) -> Vec<&'a [&'b (String, Vec<u8>)]> {
    let size = |(name, src): &(String, Vec<u8>)| name.len() + src.len() + 8;
    let total: usize = items.iter().map(|i| size(i)).sum();
    let jobs = jobs.clamp(1, items.len());
    let share = total.div_ceil(jobs);
    let mut parts = Vec::with_capacity(jobs);
    let (mut start, mut filled) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        if filled > 0 && filled + size(item) > share && parts.len() + 1 < jobs {
            parts.push(&items[start..i]);
            (start, filled) = (i, 0);
        }
        filled += size(item);
    }
    parts.push(&items[start..]);
    parts
}

fn compile_chunk(
    python: &Path,
    part: &[&(String, Vec<u8>)],
) -> Result<Vec<Option<Vec<u8>>>, PythonError> {
    let fail = |message: String| PythonError::Compile {
        path: python.to_path_buf(),
        message,
    };
    let mut command = Command::new(python);
    // Not -I: it implies -E, which would ignore PYTHONHASHSEED. Frozenset
    // constants (`x in {"a", "b"}`) are marshalled in iteration order, which
    // follows the string hash seed, so with a random seed the same source
    // gave other bytes at every build. The rest of -I by hand: no site, no
    // user site, none of the caller's PYTHON* variables, and `/` as the
    // working directory so nothing there can shadow a stdlib module.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PYTHON") {
            command.env_remove(key);
        }
    }
    let mut child = command
        .env("PYTHONHASHSEED", "0")
        .current_dir("/")
        // -B: never write bytecode into the interpreter's own tree (a --python-dist copy
        // is packed afterwards, and the result must not depend on what ran).
        .args(["-S", "-s", "-B", "-c", COMPILER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| PythonError::Spawn {
            path: python.to_path_buf(),
            source,
        })?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    // Writing and reading run concurrently so neither pipe can fill and stall.
    let outcome = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            let mut w = BufWriter::new(stdin);
            for (name, src) in part.iter().copied() {
                w.write_all(&(name.len() as u32).to_le_bytes())?;
                w.write_all(name.as_bytes())?;
                w.write_all(&(src.len() as u32).to_le_bytes())?;
                w.write_all(src)?;
            }
            w.flush()
        });
        let mut r = BufReader::new(stdout);
        let mut out = Vec::with_capacity(part.len());
        for _ in part {
            let mut len = [0u8; 4];
            r.read_exact(&mut len)
                .map_err(|e| format!("reading the compiler's answer: {e}"))?;
            let mut pyc = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut pyc)
                .map_err(|e| format!("reading the compiler's answer: {e}"))?;
            out.push((!pyc.is_empty()).then_some(pyc));
        }
        writer
            .join()
            .expect("writer thread panicked")
            .map_err(|e| format!("feeding the compiler: {e}"))?;
        Ok::<_, String>(out)
    });
    let status = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    match outcome {
        Ok(out) => Ok(out),
        Err(msg) => Err(fail(format!(
            "{msg}; {}",
            String::from_utf8_lossy(&status.stderr).trim()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_skips_bad_sources() {
        let python = crate::Interpreter::find("python3").expect("python3 on PATH");
        let sources = vec![
            ("a.py".to_string(), b"x = 1\n".to_vec()),
            ("bad.py".to_string(), b"def (:\n".to_vec()),
            ("c.py".to_string(), b"print('hi')\n".to_vec()),
        ];
        let out = compile_sources(&python.path, &sources, 2).unwrap();
        assert_eq!(out.len(), 3);
        let pyc = out[0].as_ref().unwrap();
        assert_eq!(hex(&pyc[..4]), python.target.facts.pyc_magic);
        assert_eq!(
            u32::from_le_bytes(pyc[4..8].try_into().unwrap()),
            0b01,
            "unchecked hash-based"
        );
        assert!(out[1].is_none());
        assert!(out[2].is_some());
    }

    #[test]
    fn splits_by_bytes_not_counts() {
        let item = |n: usize| (String::new(), vec![0u8; n]);
        let items = [item(1000), item(10), item(10), item(10), item(980)];
        let refs: Vec<&(String, Vec<u8>)> = items.iter().collect();
        let lens = |jobs| -> Vec<usize> {
            split_by_bytes(&refs, jobs)
                .iter()
                .map(|p| p.len())
                .collect()
        };
        assert_eq!(lens(2), [1, 4], "the big first file alone");
        assert_eq!(lens(1), [5]);
        for jobs in 3..9 {
            let l = lens(jobs);
            assert!(l.len() <= jobs && l.iter().sum::<usize>() == 5, "{l:?}");
        }
        let items = [item(1000), item(1000), item(10), item(10), item(10)];
        let refs: Vec<&(String, Vec<u8>)> = items.iter().collect();
        let parts = split_by_bytes(&refs, 2);
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [1, 4]);
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
