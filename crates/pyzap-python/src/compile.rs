//! Bytecode for the target: sources are streamed to `python/build/compile.py`
//! running under the target interpreter (one process per core), which
//! answers with unchecked hash-based pycs (PEP 552) — valid whatever the zip
//! timestamps, so reproducible builds stay reproducible.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::PythonError;

const COMPILER: &str = include_str!("../../../python/build/compile.py");

/// Compiles `(co_filename, source)` pairs; `None` where a source does not compile.
pub fn compile_sources(
    python: &Path,
    sources: &[(String, Vec<u8>)],
    jobs: usize,
) -> Result<Vec<Option<Vec<u8>>>, PythonError> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let jobs = jobs.clamp(1, sources.len());
    let chunk = sources.len().div_ceil(jobs);
    let results: Vec<Result<Vec<Option<Vec<u8>>>, PythonError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = sources
            .chunks(chunk)
            .map(|part| scope.spawn(move || compile_chunk(python, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("compile thread panicked"))
            .collect()
    });
    let mut out = Vec::with_capacity(sources.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

fn compile_chunk(
    python: &Path,
    part: &[(String, Vec<u8>)],
) -> Result<Vec<Option<Vec<u8>>>, PythonError> {
    let fail = |message: String| PythonError::Compile {
        path: python.to_path_buf(),
        message,
    };
    let mut child = Command::new(python)
        // -B: never write bytecode into the interpreter's own tree (a --python-dist copy
        // is packed afterwards, and the result must not depend on what ran).
        .args(["-I", "-S", "-B", "-c", COMPILER])
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
            for (name, src) in part {
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

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
