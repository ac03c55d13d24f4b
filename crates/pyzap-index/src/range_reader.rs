//! A `Read + Seek` view of a remote file through HTTP range requests, so
//! the zip reader can fetch a wheel's central directory and its METADATA
//! (two requests, typically) instead of the whole wheel. The public index
//! often offers no PEP 658 metadata files but serves ranges (DEPENDENCIES.md).

use std::io::{self, Read, Seek, SeekFrom};

use url::Url;

use crate::http::HttpClient;

/// Bytes fetched per request: enough for a central directory and most METADATA.
const CHUNK: u64 = 64 * 1024;

pub(crate) struct RangeReader<'a> {
    http: &'a dyn HttpClient,
    url: Url,
    len: u64,
    pos: u64,
    /// Fetched spans: (offset, bytes).
    spans: Vec<(u64, Vec<u8>)>,
    pub requests: u32,
}

impl<'a> RangeReader<'a> {
    /// Fetches the file's tail and learns its length; `Ok(None)` when the
    /// server does not serve ranges (the caller then downloads the file).
    pub(crate) fn open(http: &'a dyn HttpClient, url: &Url) -> io::Result<Option<Self>> {
        let mut response = http
            .get(url, &[("Range", format!("bytes=-{CHUNK}"))])
            .map_err(io::Error::other)?;
        if response.status != 206 {
            return Ok(None);
        }
        let Some((start, len)) = response
            .header("content-range")
            .and_then(parse_content_range)
        else {
            return Ok(None);
        };
        let mut tail = Vec::new();
        response.body.read_to_end(&mut tail)?;
        Ok(Some(RangeReader {
            http,
            url: url.clone(),
            len,
            pos: 0,
            spans: vec![(start, tail)],
            requests: 1,
        }))
    }

    fn fetch(&mut self, start: u64) -> io::Result<()> {
        let end = (start + CHUNK).min(self.len) - 1;
        let mut response = self
            .http
            .get(&self.url, &[("Range", format!("bytes={start}-{end}"))])
            .map_err(io::Error::other)?;
        self.requests += 1;
        if response.status != 206 {
            return Err(io::Error::other(format!(
                "range request answered HTTP {}",
                response.status
            )));
        }
        let mut data = Vec::new();
        response.body.read_to_end(&mut data)?;
        let got = response
            .header("content-range")
            .and_then(parse_content_range)
            .map_or(start, |(s, _)| s);
        self.spans.push((got, data));
        Ok(())
    }
}

/// `bytes START-END/TOTAL` → (START, TOTAL).
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        for _ in 0..2 {
            let pos = self.pos;
            if let Some((start, data)) = self
                .spans
                .iter()
                .find(|(s, d)| *s <= pos && pos < *s + d.len() as u64)
            {
                let from = (pos - start) as usize;
                let n = buf.len().min(data.len() - from);
                buf[..n].copy_from_slice(&data[from..from + n]);
                self.pos += n as u64;
                return Ok(n);
            }
            self.fetch(pos)?;
        }
        Err(io::Error::other("range request returned other bytes"))
    }
}

impl Seek for RangeReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if pos < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before start",
            ));
        }
        self.pos = pos as u64;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 100-199/1000"), Some((100, 1000)));
        assert_eq!(parse_content_range("bytes */1000"), None);
    }
}
